// ByteReader: untrusted bytes are read field by field; running out is an error that says
// which record and which field, never a read past the end.
#include "util/byte_reader.hpp"

#include <gtest/gtest.h>

namespace samizdat {
namespace {

TEST(ByteReader, ReadsBigEndianFieldsInOrder) {
  Bytes record{0x07};
  append_u16_be(record, 0x0102);
  append_u32_be(record, 0x03040506);
  append_u64_be(record, 0x0708090a0b0c0d0eULL);
  append(record, as_bytes("key!tail"));
  ByteReader reader(record, "test record");
  EXPECT_EQ(*reader.u8("kind"), 0x07);
  EXPECT_EQ(*reader.u16("short"), 0x0102);
  EXPECT_EQ(*reader.u32("word"), 0x03040506u);
  EXPECT_EQ(*reader.u64("long"), 0x0708090a0b0c0d0eULL);
  auto key = reader.array<4>("key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(as_chars(ByteView(*key)), "key!");
  EXPECT_EQ(reader.remaining(), 4u);
  EXPECT_EQ(as_chars(reader.rest()), "tail");
  EXPECT_TRUE(reader.at_end());
  EXPECT_TRUE(reader.finish().ok());
}

TEST(ByteReader, RunningOutNamesTheRecordAndTheFieldAndReadsNothing) {
  Bytes record{0x00, 0x01, 0x02};
  ByteReader reader(record, "endpoint health record");
  auto word = reader.u32("failure count");
  ASSERT_FALSE(word.ok());
  EXPECT_EQ(word.error().code, Errc::malformed);
  EXPECT_EQ(word.error().message, "endpoint health record is truncated (it ends inside the failure count)");
  EXPECT_EQ(reader.remaining(), 3u) << "a failed read consumes nothing";
  EXPECT_FALSE(reader.bytes(4, "tag").ok());
  EXPECT_FALSE(reader.array<4>("key").ok());
  EXPECT_FALSE(reader.u64("time").ok());
  EXPECT_EQ(*reader.u16("short"), 0x0001);
  EXPECT_FALSE(reader.u16("short").ok());
  EXPECT_EQ(*reader.u8("last"), 0x02);
  EXPECT_FALSE(reader.u8("after the end").ok());
}

TEST(ByteReader, ALengthFromTheInputCannotReachPastTheEnd) {
  Bytes record{0xff, 0xff, 0xff, 0xff, 'a', 'b'};
  ByteReader reader(record, "message");
  auto length = *reader.u32("length");
  EXPECT_FALSE(reader.bytes(length, "body").ok());
  EXPECT_FALSE(reader.bytes(SIZE_MAX, "body").ok());
  EXPECT_EQ(as_chars(*reader.bytes(2, "body")), "ab");
}

TEST(ByteReader, LeftoverBytesAreRefusedByFinish) {
  Bytes record{0x01, 0x02, 0x03};
  ByteReader reader(record, "sender certificate");
  (void)reader.u8("version");
  auto finished = reader.finish();
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.error().code, Errc::malformed);
  EXPECT_EQ(finished.error().message, "sender certificate has 2 trailing bytes");
}

}  // namespace
}  // namespace samizdat
