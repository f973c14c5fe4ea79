#pragma once
// holds_pointer<T>(): whether a value of T carries a pointer — itself, in a member of an
// aggregate (at any depth), or in an element of a standard container, pair, tuple, optional or
// variant. Such a value would travel as raw bytes and point into the sender's memory.
//
// An aggregate's members are found without naming them: T{m, m, ...} with stand-ins `m` that
// convert to any type is valid for up to as many initializers as T has members; stand-ins that
// refuse to become pointers (or aggregates holding them) then initialize the same count only
// when no member is one. Classes with constructors cannot be inspected this way (documented).
#include <cstddef>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

namespace mpp::detail {

template <class T>
constexpr bool holds_pointer();

/// The standard class templates mpp sends element by element.
template <template <class...> class C, class... Ts>
concept standard_composite = std::same_as<C<Ts...>, std::vector<Ts...>> || std::same_as<C<Ts...>, std::list<Ts...>> ||
    std::same_as<C<Ts...>, std::deque<Ts...>> || std::same_as<C<Ts...>, std::set<Ts...>> ||
    std::same_as<C<Ts...>, std::map<Ts...>> || std::same_as<C<Ts...>, std::unordered_map<Ts...>> ||
    std::same_as<C<Ts...>, std::unordered_set<Ts...>> || std::same_as<C<Ts...>, std::pair<Ts...>> ||
    std::same_as<C<Ts...>, std::tuple<Ts...>> || std::same_as<C<Ts...>, std::optional<Ts...>> ||
    std::same_as<C<Ts...>, std::variant<Ts...>>;

/// Stands in for any member (unevaluated only).
struct any_member {
  template <class T>
  operator T() const;
};
/// Stands in for any member that holds no pointer. Becoming a pointer is deleted rather than
/// absent, so a member that holds one makes T{...} ill-formed instead of letting its
/// initializer slip into the member's own members (brace elision).
struct pointer_free_member {
  template <class T>
  requires(!holds_pointer<T>()) operator T() const;
  template <class T>
  requires(holds_pointer<T>()) operator T() const = delete;
};

template <class T, class Member, std::size_t... I>
constexpr bool initializable_by(std::index_sequence<I...>) {
  return requires { T{(void(I), Member{})...}; };
}

/// How many stand-ins T{...} takes (its members, or more where arrays take one per element).
template <class T, std::size_t N = 0>
constexpr std::size_t initializer_count() {
  constexpr std::size_t most = 64;  // beyond that, not inspected
  if constexpr (N == most || !initializable_by<T, any_member>(std::make_index_sequence<N + 1>{})) {
    return N;
  } else {
    return initializer_count<T, N + 1>();
  }
}

/// A standard composite's template arguments (its comparator, hasher and allocator included:
/// empty, so never a pointer).
template <class T>
struct elements_hold_pointer : std::false_type {};
template <template <class...> class C, class... Ts>
requires standard_composite<C, Ts...>
struct elements_hold_pointer<C<Ts...>> : std::bool_constant<(holds_pointer<Ts>() || ...)> {
};

template <class T>
constexpr bool holds_pointer() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_pointer_v<U> || std::is_member_pointer_v<U>) {
    return true;
  } else if constexpr (std::is_array_v<U>) {
    return holds_pointer<std::remove_extent_t<U>>();
  } else if constexpr (elements_hold_pointer<U>::value) {
    return true;
  } else if constexpr (std::is_class_v<U> && std::is_aggregate_v<U>) {
    constexpr auto count = initializer_count<U>();
    return !initializable_by<U, pointer_free_member>(std::make_index_sequence<count>{});
  } else {
    return false;
  }
}

}  // namespace mpp::detail
