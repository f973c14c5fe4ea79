#pragma once
// The types a ThreadPool call works with, named where its signatures can use them: f is called
// in this process, on the decayed arguments (apply) or on the items as the chunks hold them
// (map). When f cannot be called, the signature names NotCallable and the body's static_assert
// says why.
#include <concepts>
#include <cstddef>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>

#include "mpp/callbacks.hpp"

namespace mpp::detail {

/// What a signature names as f's result when f cannot be called with the arguments given.
struct NotCallable {};

template <class F, class... Args>
struct invoke_result_or_not_callable {
  using type = NotCallable;
};
template <class F, class... Args>
requires std::is_invocable_v<F, Args...>
struct invoke_result_or_not_callable<F, Args...> {
  using type = std::invoke_result_t<F, Args...>;
};

/// What f returns for thread_pool.apply(f, args...), the trailing callbacks left out.
template <class F, class... Args>
struct thread_apply_result {
  template <std::size_t... I>
  static auto of(std::index_sequence<I...>) ->
      typename invoke_result_or_not_callable<std::decay_t<F>&,
                                             std::decay_t<std::tuple_element_t<I, std::tuple<Args...>>>...>::type;
  using type = decltype(of(typename TrailingOptions<Args...>::Positional{}));
};
template <class F, class... Args>
using thread_apply_result_t = typename thread_apply_result<F, Args...>::type;

/// One ThreadPool map (Star: starmap) of f over xs. `Waits`: the caller waits for the result
/// (map, starmap), so a contiguous input is read in place, as const items, when f takes them so.
template <bool Star, bool Waits, class F, class Xs>
struct ThreadMapTypes {
  using Fn = std::decay_t<F>;
  using Item = std::remove_cvref_t<std::ranges::range_value_t<Xs>>;
  static constexpr bool callable_on_const = [] {
    if constexpr (Star) {
      return requires(Fn & fn, const Item& item) { std::apply(fn, item); };
    } else {
      return std::is_invocable_v<Fn&, const Item&>;
    }
  }();
  // Page faults on a fresh copy cost more than trivial tasks; a function taking the item by
  // non-const reference gets a copy, as Python's pool gives.
  static constexpr bool borrows = Waits && callable_on_const && std::ranges::contiguous_range<Xs> &&
                                  std::ranges::sized_range<Xs> &&
                                  std::is_lvalue_reference_v<std::ranges::range_reference_t<Xs>>;
  using Stored = std::conditional_t<borrows, const Item, Item>;
  using Result = decltype([] {
    if constexpr (Star) {
      return std::type_identity<decltype(std::apply(std::declval<Fn&>(), std::declval<Stored&>()))>{};
    } else {
      return std::type_identity<typename invoke_result_or_not_callable<Fn&, Stored&>::type>{};
    }
  }())::type;
};
template <bool Star, bool Waits, class F, class Xs>
using thread_map_result_t = typename ThreadMapTypes<Star, Waits, F, std::remove_reference_t<Xs>>::Result;

/// What f returns for one item of thread_pool.imap(f, xs) (the items are a copy of the input).
template <class F, class Xs>
using thread_imap_result_t =
    typename invoke_result_or_not_callable<std::decay_t<F>&,
                                           std::remove_cvref_t<std::ranges::range_value_t<Xs>>&>::type;

}  // namespace mpp::detail
