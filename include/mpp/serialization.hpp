#pragma once
// Which types can travel between ranks as task arguments and results.
//
// Accepted: arithmetic types, enums, any trivially copyable struct (sent as raw bytes),
// std::string, the standard containers (std::array, set, unordered_map, ...), pairs, tuples,
// std::optional (Python's None), std::variant and std::monostate of accepted types, and any
// class with a Boost.Serialization `serialize(Archive&, unsigned)` member or a free
// `serialize` found next to it. If you wrote `boost::serialization::serialize` for a type you
// cannot touch, declare it:   template <> struct mpp::is_serializable<Legacy> : std::true_type {};
//
// Refused at compile time: pointers, and raw-bytes structs that hold one (a member, a member's
// member, an array element), since the pointer would point into the sender's memory. Members
// are inspected for aggregates (plain structs, up to 64 members); a trivially copyable class
// with constructors and a pointer member cannot be inspected and must not be sent.
#include <array>
#include <boost/archive/binary_iarchive.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/serialization/array.hpp>
#include <boost/serialization/deque.hpp>
#include <boost/serialization/list.hpp>
#include <boost/serialization/map.hpp>
#include <boost/serialization/set.hpp>
#include <boost/serialization/string.hpp>
#include <boost/serialization/unordered_map.hpp>
#include <boost/serialization/unordered_set.hpp>
#include <boost/serialization/utility.hpp>
#include <boost/serialization/vector.hpp>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "mpp/detail/malformed_message.hpp"
#include "mpp/detail/pointer_members.hpp"

namespace boost::serialization {
// Boost 1.74 has no std::tuple support; starmap arguments and tuple results need it.
template <class Archive, class... Ts>
void serialize(Archive& archive, std::tuple<Ts...>& tuple, const unsigned int /*version*/) {
  std::apply([&archive](auto&... element) { (archive & ... & element); }, tuple);
}
}  // namespace boost::serialization

namespace mpp {

template <class T>
struct is_serializable;

namespace detail {

/// Constructor tag for types whose default constructor does work that a value about to be
/// loaded does not need (mpp's shared-object handles allocate shared memory).
struct for_loading_t {
  explicit for_loading_t() = default;
};
inline constexpr for_loading_t for_loading{};

/// An object to deserialize into.
template <class T>
T blank() {
  if constexpr (std::is_constructible_v<T, for_loading_t>) {
    return T(for_loading);
  } else {
    return T{};
  }
}

}  // namespace detail
}  // namespace mpp

namespace boost::serialization {
// Boost 1.74 knows boost::optional and boost::variant, not the std ones.
template <class Archive, class T>
void serialize(Archive& archive, std::optional<T>& value, const unsigned int /*version*/) {
  bool has = value.has_value();
  archive& has;
  if constexpr (Archive::is_loading::value) {
    value.reset();
    if (!has) return;
    value.emplace(mpp::detail::blank<T>());
  }
  if (has) archive&* value;
}

template <class Archive, class... Ts>
void serialize(Archive& archive, std::variant<Ts...>& value, const unsigned int /*version*/) {
  std::uint32_t index = static_cast<std::uint32_t>(value.index());
  archive& index;
  if constexpr (Archive::is_loading::value) {
    if (index >= sizeof...(Ts))
      throw mpp::detail::MalformedMessage("mpp: a std::variant names an alternative it does not have");
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((index == I
            ? void(value.template emplace<I>(mpp::detail::blank<std::variant_alternative_t<I, std::variant<Ts...>>>()))
            : void()),
       ...);
    }
    (std::index_sequence_for<Ts...>{});
  }
  std::visit([&archive](auto& alternative) { archive& alternative; }, value);
}

template <class Archive>
void serialize(Archive&, std::monostate&, const unsigned int /*version*/) {}
}  // namespace boost::serialization

namespace mpp {
namespace detail {

/// Sent as its bytes: no archive, no per-element work.
template <class T>
concept raw_bytes = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> && !std::is_member_pointer_v<T> &&
                    !std::is_null_pointer_v<T>;

template <class T>
concept has_member_serialize = requires(T& value, boost::archive::binary_oarchive& archive) {
  value.serialize(archive, 0u);
};
template <class T>
concept has_free_serialize = requires(T& value, boost::archive::binary_oarchive& archive) {
  serialize(archive, value, 0u);
};

template <class T>
struct elements_serializable : std::false_type {};
template <template <class...> class C, class... Ts>
requires standard_composite<C, Ts...>
struct elements_serializable<C<Ts...>> {
  // Allocators, comparators and hashers are template arguments too; they are not sent.
  template <class U>
  static constexpr bool ok = is_serializable<U>::value || std::is_empty_v<U>;
  static constexpr bool value = (ok<Ts> && ...);
};
template <class T, std::size_t N>
struct elements_serializable<std::array<T, N>> : is_serializable<T> {};

template <class T>
constexpr bool serializable() {
  if constexpr (std::is_reference_v<T> || std::is_pointer_v<T>) {
    return false;
  } else if constexpr (raw_bytes<T>) {
    return !holds_pointer<T>();
  } else if constexpr (std::same_as<T, std::string>) {
    return true;
  } else if constexpr (elements_serializable<T>::value) {
    return true;
  } else {
    return has_member_serialize<T> || has_free_serialize<T>;
  }
}

}  // namespace detail

/// True when T can be an argument or a result of a task. Specialize to opt a type in.
template <class T>
struct is_serializable : std::bool_constant<detail::serializable<T>()> {};

template <class T>
inline constexpr bool is_serializable_v = is_serializable<T>::value;

}  // namespace mpp
