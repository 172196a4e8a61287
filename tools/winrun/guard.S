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
    .irp n, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    movups [rsp + 64 + 16 * (\n - 6)], xmm\n
    .endr
    stmxcsr [rsp + 224]
    mov [rip + guard_rsp], rsp
    mov [rip + guard_state], r8
    .set slot, 8                # state->before[]
    .irp r, rbx, rbp, rdi, rsi, r12, r13, r14, r15
    mov \r, qword ptr [r8 + slot]
    .set slot, slot + 8
    .endr
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
    .set slot, 72               # state->after[]
    .irp r, rbx, rbp, rdi, rsi, r12, r13, r14, r15
    mov qword ptr [r10 + slot], \r
    .set slot, slot + 8
    .endr
    ldmxcsr [rsp + 224]
    .irp n, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    movups xmm\n, [rsp + 64 + 16 * (\n - 6)]
    .endr
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
