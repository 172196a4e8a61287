// Emits badsignal (abi variant), probes it natively and checks what it wrote: exit 0 only if all is right.
#include <w64stub/w64stub.hpp>

#include <cstdio>

int main() {
  auto program = w64stub::catalog_program("badsignal", w64stub::Variant::Abi);
  if (!program) return std::puts(program.error().message.c_str()), 1;
  auto image = w64stub::emit(*program, {.model = w64stub::Model::Rip});
  if (!image) return std::puts(image.error().message.c_str()), 1;
  auto report = w64stub::probe(*image);
  if (!report) return std::puts(report.error().message.c_str()), 1;
  bool ok = report->run.captured_stderr == "runtime: signal received on thread not created by Go.\n" &&
            report->conformant();
  std::printf("consumer: %s\n", ok ? "ok" : "unexpected result");
  return ok ? 0 : 1;
}
