#pragma once
// How ListProxy::sort() runs on the master, which holds the elements only serialized: the
// request names sort_encoded<T> (code of this same program, resolved like a task's function),
// which decodes the elements, sorts them by T's operator<, and puts them back.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "mpp/detail/wire.hpp"

namespace mpp::detail {

using SortEncoded = void (*)(std::vector<std::string>& items, bool reverse);

template <class T>
void sort_encoded(std::vector<std::string>& items, bool reverse) {
  std::vector<std::pair<T, std::string>> decoded;
  decoded.reserve(items.size());
  for (auto& item : items) {
    Reader in(item.data(), item.data() + item.size());
    T value = in.read<T>();
    decoded.emplace_back(std::move(value), std::move(item));
  }
  // Stable either way, as Python's sort(reverse=True).
  if (reverse) {
    std::stable_sort(decoded.begin(), decoded.end(), [](const auto& a, const auto& b) { return b.first < a.first; });
  } else {
    std::stable_sort(decoded.begin(), decoded.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  for (std::size_t i = 0; i < items.size(); ++i) items[i] = std::move(decoded[i].second);
}

}  // namespace mpp::detail
