#pragma once
// CheckedArchive: Boost's binary input archive, reading the same bytes, except that a container
// count or a string length read from a message is refused unless that many bytes are left in it.
// Boost itself resizes first and reads after, so a malformed count made it allocate gigabytes.
#include <boost/archive/binary_iarchive_impl.hpp>
#include <boost/archive/detail/register_archive.hpp>
#include <boost/serialization/collection_size_type.hpp>
#include <cstddef>
#include <streambuf>
#include <string>

namespace mpp::detail {

class CheckedArchive : public boost::archive::binary_iarchive_impl<CheckedArchive, char, std::char_traits<char>> {
 public:
  /// Reads from `bytes` in the format of a boost::archive::binary_oarchive made with `flags`.
  CheckedArchive(std::streambuf& bytes, unsigned int flags) : Impl(bytes, flags), bytes_(bytes) { init(flags); }

 private:
  using Impl = boost::archive::binary_iarchive_impl<CheckedArchive, char, std::char_traits<char>>;
  friend class boost::archive::detail::interface_iarchive<CheckedArchive>;
  friend class boost::archive::basic_binary_iarchive<CheckedArchive>;
  friend class boost::archive::basic_binary_iprimitive<CheckedArchive, char, std::char_traits<char>>;
  friend class boost::archive::load_access;

  template <class T>
  void load_override(T& value) {
    Impl::load_override(value);
  }
  // Every element of a collection takes at least one byte (a count, a length, a value).
  void load_override(boost::serialization::collection_size_type& count);

  using Impl::load;
  void load(std::string& text);
  void load(std::wstring& text);

  /// Throws MalformedMessage unless `count` items of `item_bytes` bytes are left to read.
  void require_items(std::size_t count, std::size_t item_bytes, const char* what);

  std::streambuf& bytes_;
};

}  // namespace mpp::detail

BOOST_SERIALIZATION_REGISTER_ARCHIVE(mpp::detail::CheckedArchive)
BOOST_SERIALIZATION_USE_ARRAY_OPTIMIZATION(mpp::detail::CheckedArchive)
