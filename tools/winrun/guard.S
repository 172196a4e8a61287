# winrun_guarded_call(entry, args, state): calls a stub as Win64 code with args[0..7] (RCX, RDX, R8, R9, then
# the stack), and gives winrun back what it had whatever the stub did - RSP, RBX, RBP, RDI, RSI, R12-R15,
# XMM6-XMM15, MXCSR, DF clear - so a stub that breaks the contract cannot corrupt winrun and the stubs after
# it. The stub gets state->before in the nonvolatile GPs (distinct values winrun chose); state->after: as it left
# them; state->rflags: after it.
    .intel_syntax noprefix
    .text
    .globl winrun_guarded_call
    .seh_proc winrun_guarded_call
winrun_guarded_call:
    push rbp
    .seh_pushreg rbp
    push rbx
    .seh_pushreg rbx
    push rsi
    .seh_pushreg rsi
    push rdi
    .seh_pushreg rdi
    push r12
    .seh_pushreg r12
    push r13
    .seh_pushreg r13
    push r14
    .seh_pushreg r14
    push r15
    .seh_pushreg r15
    sub rsp, 248                # [0, 32) home, [32, 64) arguments 5-8, [64, 224) XMM6-XMM15, [224] MXCSR
    .seh_stackalloc 248
    .seh_endprologue
    movups [rsp + 64], xmm6
    movups [rsp + 80], xmm7
    movups [rsp + 96], xmm8
    movups [rsp + 112], xmm9
    movups [rsp + 128], xmm10
    movups [rsp + 144], xmm11
    movups [rsp + 160], xmm12
    movups [rsp + 176], xmm13
    movups [rsp + 192], xmm14
    movups [rsp + 208], xmm15
    stmxcsr [rsp + 224]
    mov [rip + guard_rsp], rsp
    mov [rip + guard_state], r8
    mov rbx, [r8 + 8]
    mov rbp, [r8 + 16]
    mov rdi, [r8 + 24]
    mov rsi, [r8 + 32]
    mov r12, [r8 + 40]
    mov r13, [r8 + 48]
    mov r14, [r8 + 56]
    mov r15, [r8 + 64]
    mov rax, rcx
    mov r10, rdx
    mov r11, [r10 + 32]
    mov [rsp + 32], r11
    mov r11, [r10 + 40]
    mov [rsp + 40], r11
    mov r11, [r10 + 48]
    mov [rsp + 48], r11
    mov r11, [r10 + 56]
    mov [rsp + 56], r11
    mov rcx, [r10]
    mov rdx, [r10 + 8]
    mov r8, [r10 + 16]
    mov r9, [r10 + 24]
    call rax
    mov rsp, [rip + guard_rsp]  # whatever the stub did to RSP
    mov r10, [rip + guard_state]
    pushfq
    pop qword ptr [r10]
    cld
    mov [r10 + 72], rbx
    mov [r10 + 80], rbp
    mov [r10 + 88], rdi
    mov [r10 + 96], rsi
    mov [r10 + 104], r12
    mov [r10 + 112], r13
    mov [r10 + 120], r14
    mov [r10 + 128], r15
    ldmxcsr [rsp + 224]
    movups xmm6, [rsp + 64]
    movups xmm7, [rsp + 80]
    movups xmm8, [rsp + 96]
    movups xmm9, [rsp + 112]
    movups xmm10, [rsp + 128]
    movups xmm11, [rsp + 144]
    movups xmm12, [rsp + 160]
    movups xmm13, [rsp + 176]
    movups xmm14, [rsp + 192]
    movups xmm15, [rsp + 208]
    add rsp, 248
    pop r15
    pop r14
    pop r13
    pop r12
    pop rdi
    pop rsi
    pop rbx
    pop rbp
    ret
    .seh_endproc

    .bss
    .balign 8
guard_rsp:
    .quad 0
guard_state:
    .quad 0
