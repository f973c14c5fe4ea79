#pragma once
// The types a Pool call works with, named where its signatures can use them: what f returns for
// apply's arguments, and a map's items as they travel with what f returns for each.
#include <cstddef>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>

#include "mpp/callbacks.hpp"
#include "mpp/detail/shipping.hpp"

namespace mpp::detail {

/// What f returns for apply(f, args...), the trailing mpp::callback / error_callback left out.
template <class F, class... Args>
struct apply_call_result {
  template <std::size_t... I>
  static auto of(std::index_sequence<I...>)
      -> apply_result_t<F, wire_args_t<F, std::tuple_element_t<I, std::tuple<Args...>>...>>;
  using type = decltype(of(typename TrailingOptions<Args...>::Positional{}));
};
template <class F, class... Args>
using apply_call_result_t = typename apply_call_result<F, Args...>::type;

/// One map (or, Star, starmap) of f over xs: each item as it travels and what f returns for it.
template <bool Star, class F, class Xs>
struct MapTypes {
  using Value = std::ranges::range_value_t<Xs>;
  using Item = std::conditional_t<Star, wire_star_item_t<F, Value>, wire_item_t<F, Value>>;
  using Result = apply_result_t<F, std::conditional_t<Star, Item, std::tuple<Item>>>;
  static constexpr void check() {
    check_shippable<F>();
    if constexpr (Star) {
      check_sendable_tuple<Item>();
    } else {
      check_sendable<Item>();
    }
    if constexpr (!std::is_void_v<Result>) check_sendable<Result>();
  }
};
template <bool Star, class F, class Xs>
using map_result_t = typename MapTypes<Star, F, std::remove_cvref_t<Xs>>::Result;

}  // namespace mpp::detail
