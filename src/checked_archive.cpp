#include "mpp/detail/checked_archive.hpp"

// Boost compiles its archive templates only for its own archive classes: instantiate them for ours.
#include <boost/archive/detail/archive_serializer_map.hpp>
#include <boost/archive/impl/archive_serializer_map.ipp>
#include <boost/archive/impl/basic_binary_iarchive.ipp>
#include <boost/archive/impl/basic_binary_iprimitive.ipp>

#include "mpp/detail/malformed_message.hpp"

namespace boost::archive {
template class detail::archive_serializer_map<mpp::detail::CheckedArchive>;
template class basic_binary_iprimitive<mpp::detail::CheckedArchive, char, std::char_traits<char>>;
template class basic_binary_iarchive<mpp::detail::CheckedArchive>;
template class binary_iarchive_impl<mpp::detail::CheckedArchive, char, std::char_traits<char>>;
}  // namespace boost::archive

namespace mpp::detail {

void CheckedArchive::load_override(boost::serialization::collection_size_type& count) {
  Impl::load_override(count);
  require_items(count, 1, "a collection");
}

void CheckedArchive::load(std::string& text) {
  std::size_t length = 0;
  Impl::load(length);
  require_items(length, sizeof(char), "a string");
  text.resize(length);
  if (length != 0) load_binary(text.data(), length);
}

void CheckedArchive::load(std::wstring& text) {
  std::size_t length = 0;
  Impl::load(length);
  require_items(length, sizeof(wchar_t), "a wide string");
  text.resize(length);
  if (length != 0) load_binary(text.data(), length * sizeof(wchar_t));
}

void CheckedArchive::require_items(std::size_t count, std::size_t item_bytes, const char* what) {
  const auto left = static_cast<std::size_t>(bytes_.in_avail());
  if (count > left / item_bytes)
    throw MalformedMessage(std::string("mpp: ") + what + " in a message announces " + std::to_string(count) +
                           " items of at least " + std::to_string(item_bytes) + " bytes but only " +
                           std::to_string(left) + " bytes are left");
}

}  // namespace mpp::detail
