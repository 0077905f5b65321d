// Unit tests of the indenting writer the emitters print through.
#include "codegen/Writer.h"

#include <gtest/gtest.h>

using namespace kiln;

TEST(Writer, IndentsFormattedLinesAndBlocks) {
  Writer w;
  w.line("int f(int {}) {{", "x");
  w.indent();
  w.open("if (x > 0)");
  w.line("return {} + {};", "x", 1);
  w.close();
  w.line("return 0;");
  w.dedent();
  w.line("}");
  EXPECT_EQ(w.str(), "int f(int x) {\n"
                     "  if (x > 0) {\n"
                     "    return x + 1;\n"
                     "  }\n"
                     "  return 0;\n"
                     "}\n");
}

TEST(Writer, LineWithoutArgumentsIsNotAFormatString) {
  Writer w;
  w.line("namespace {");
  w.line("struct S { int a; };");
  w.line("}");
  EXPECT_EQ(w.str(), "namespace {\nstruct S { int a; };\n}\n");
}

TEST(Writer, RawIndentsEveryLineButLeavesEmptyLinesBare) {
  Writer w(4);
  w.indent();
  w.raw("a;\n\nb;");
  w.blank();
  w.close(";");
  EXPECT_EQ(w.str(), "    a;\n\n    b;\n\n};\n");
}

TEST(Writer, VerbatimIsNotIndentedAndDedentClampsAtZero) {
  Writer w;
  w.dedent();
  w.indent();
  w.verbatim("x\ny\n");
  w.line("{}", 3);
  EXPECT_EQ(w.level(), 1u);
  EXPECT_EQ(w.take(), "x\ny\n  3\n");
}
