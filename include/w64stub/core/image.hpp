// Image: what emit produced, ready to be listed, compared, instantiated or written to a file: code and data
// bytes at their addresses, symbols, relocations (which bytes hold which address), the instruction map with
// the source line each instruction came from.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/field.hpp"
#include "w64stub/core/imagefile.hpp"
#include "w64stub/core/layout.hpp"
#include "w64stub/core/source_lines.hpp"

namespace w64stub {

std::string_view name(RelocKind kind);

struct Relocation {
  uint32_t offset = 0;  // of the field, in text
  RelocKind kind = RelocKind::Abs32S;
  std::string symbol;
  int64_t addend = 0;
  uint32_t instr_end = 0;  // Rel32: the offset the displacement is relative to
};

// External: code or data of another TEXT symbol or file, at address 0 until a binding places it.
enum class SymbolKind { Code, Import, Data, External };
std::string_view name(SymbolKind kind);

struct Symbol {
  std::string name;
  SymbolKind kind = SymbolKind::Data;
  uint64_t address = 0;
  uint32_t size = 0;
  std::string dll, function;  // imports
  std::string signature;      // imports: win64::Signature text, "" when not declared
};

struct Section {
  std::string name;
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

// Where an instruction came from: the Program (with its source location), the linker's $N frame (sub/add rsp
// around the body), or decoding an Image read from a file (nothing is known of its source).
enum class InstrOrigin { Program, Linker, Decoded };

struct InstrInfo {
  uint32_t offset = 0;
  uint32_t length = 0;
  int program_index = -1;  // Program: index into the Program's instrs
  SourceLoc loc;
  InstrOrigin origin = InstrOrigin::Program;
};

struct Image {
  std::string stub;    // catalog name or TEXT symbol
  std::string symbol;  // the TEXT symbol
  Model model = Model::Go2012;
  Policy policy = Policy::As;
  Section text;        // code; in the rip model followed by 0xCC padding and the data
  Section data;        // absolute models: the data section; empty in the rip model
  uint32_t code_size = 0;
  std::vector<Symbol> symbols;
  std::vector<Relocation> relocations;
  std::vector<InstrInfo> instrs;
  // Absolute models: the largest alignment emit gave a data symbol (Layout::data_align). The data keeps its
  // layout when moved by a multiple of it; Template refuses other data addresses.
  uint32_t data_align = 1;
  int32_t declared_frame = 0;  // Go's $N: the linker-managed part of the frame (its sub/add are in the text)
  std::vector<uint8_t> unwind;  // UNWIND_INFO of the entry function [0, entry_size()); empty when not describable
  SourceLines source_lines;  // shared with the Program it was emitted from
  int first_line = 1;        // the line source_lines[0] is
  std::string source_file;  // the file source_lines hold; "" for any

  const Symbol* find_symbol(std::string_view name) const;
  // The bytes of the entry function: `symbol`'s Code symbol (a linked Image holds more functions after it).
  uint32_t entry_size() const;
  const InstrInfo* instr_at(uint32_t offset) const;          // the instruction starting at offset
  const InstrInfo* instr_ending_at(uint32_t offset) const;   // e.g. the CALL a return address follows
  std::string_view source_line(const InstrInfo& instr) const;
  // Where a symbol lands when a loader puts text at text_address and data at data_address: it moves with
  // its section.
  uint64_t placed_address(const Symbol& symbol, uint64_t text_address, uint64_t data_address) const;
};

// An Image as an image file (imagefile.hpp) and back. A read Image has no source: its instruction map comes
// from decoding the code with Zydis; its declared frame comes from the file.
imagefile::File to_file(const Image& image);
Expected<Image> from_file(const imagefile::File& file);
Expected<Image> read_image_file(const std::string& path);

// Writes the value of `reloc` into `text` (a copy of image.text placed at text_address), for the symbol
// placed at symbol_address. Fails, writing nothing, when the value does not fit the field.
Status apply_relocation(std::span<uint8_t> text, uint64_t text_address, const Relocation& reloc,
                        uint64_t symbol_address);

}  // namespace w64stub
