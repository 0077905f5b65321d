// escapeText (ir/Escape.h): what reaches the terminal from a model-provided name. Valid printable
// UTF-8 passes unchanged; control characters and bytes outside valid UTF-8 sequences become \xNN.
#include "ir/Escape.h"

#include <gtest/gtest.h>

using kiln::escapeText;

TEST(Escape, PrintableTextIsUnchanged) {
  EXPECT_EQ(escapeText("conv1/Relu_0:0 [a,b] \\ 'q'"), "conv1/Relu_0:0 [a,b] \\ 'q'");
  EXPECT_EQ(escapeText("größe 名前 \xF0\x9F\x98\x80"), "größe 名前 \xF0\x9F\x98\x80");
  EXPECT_EQ(escapeText(""), "");
}

TEST(Escape, ControlCharactersAreEscapedByteByByte) {
  EXPECT_EQ(escapeText(llvm::StringRef("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(escapeText("\x1b[31mred\n\t\x7f"), "\\x1b[31mred\\x0a\\x09\\x7f");
  EXPECT_EQ(escapeText("\xC2\x85"), "\\xc2\\x85"); // U+0085 (NEL), a C1 control
  EXPECT_EQ(escapeText("\xC2\xA0"), "\xC2\xA0");   // U+00A0, the first character after C1
}

TEST(Escape, InvalidUtf8IsEscapedAndResynchronizes) {
  EXPECT_EQ(escapeText("\xff" "a"), "\\xffa");
  EXPECT_EQ(escapeText("\xC0\xAF"), "\\xc0\\xaf");         // overlong '/'
  EXPECT_EQ(escapeText("\xED\xA0\x80"), "\\xed\\xa0\\x80"); // a UTF-16 surrogate
  EXPECT_EQ(escapeText("\xF4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); // beyond U+10FFFF
  EXPECT_EQ(escapeText("\xE2\x82"), "\\xe2\\x82");         // truncated at the end
  EXPECT_EQ(escapeText("\xE2\x82(\xE2\x82\xAC)"), "\\xe2\\x82(\xE2\x82\xAC)");
}

TEST(Escape, IsIdempotent) {
  std::string once = escapeText("\x01\xff ok \xC3\xA9");
  EXPECT_EQ(escapeText(once), once);
}
