#pragma once
// Function shipping: how `pool.map(f, xs)` names `f` to a worker without any registration.
//
// A plain function travels as its CodeRef. A captureless lambda or an empty function object
// is default-constructed on the worker. Either way the worker also needs the code that
// deserializes the arguments, calls, and serializes the result: the invoker template
// instantiated for this exact (callable, argument types) pair, shipped as a CodeRef too.
// The template instantiation is the registry.
#include <concepts>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <vector>

#include "mpp/detail/code_ref.hpp"
#include "mpp/detail/wire.hpp"
#include "mpp/serialization.hpp"

namespace mpp::detail {

template <class...>
inline constexpr bool always_false = false;

/// Parameter and result types of a callable, when it has exactly one call signature.
template <class F>
struct signature {
  static constexpr bool known = false;
};
template <class R, class... A>
struct signature<R (*)(A...)> {
  static constexpr bool known = true;
  using params = std::tuple<std::decay_t<A>...>;
};
template <class R, class... A>
struct signature<R (*)(A...) noexcept> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...)> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) noexcept> : signature<R (*)(A...)> {};
template <class C, class R, class... A>
struct signature<R (C::*)(A...) const noexcept> : signature<R (*)(A...)> {};
template <class F>
requires requires { &F::operator(); }
struct signature<F> : signature<decltype(&F::operator())> {};

template <class F>
concept plain_function = std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>;
template <class F>
concept stateless_callable = std::is_class_v<F> && std::is_empty_v<F> && std::default_initializable<F>;

template <class F>
constexpr void check_shippable() {
  static_assert(plain_function<F> || stateless_callable<F>,
                "mpp: only plain functions, captureless lambdas and empty function objects can run on "
                "another rank; a lambda with captures (or a function object with data members) holds "
                "state that lives in this process. Pass that state as arguments instead: "
                "pool.apply(f, x, y), pool.starmap(f, tuples), or map over a vector of structs.");
}

template <class T>
constexpr void check_sendable() {
  static_assert(!holds_pointer<T>() || is_serializable_v<T>,
                "mpp: a pointer cannot be sent to another rank (it points into this process's memory), nor a "
                "struct or container holding one; send the values themselves (a std::vector or std::string "
                "instead of a pointer member), or give the struct a Boost.Serialization `serialize` member.");
  static_assert(is_serializable_v<T>,
                "mpp: this argument or result type cannot be sent between ranks. Make it trivially "
                "copyable, use std::string / standard containers, or give it a Boost.Serialization "
                "`template <class A> void serialize(A& ar, unsigned)` member (see mpp/serialization.hpp).");
  static_assert(raw_bytes<T> || std::default_initializable<T> || std::is_constructible_v<T, for_loading_t> ||
                    is_tuple_like<T>::value,
                "mpp: a type received from another rank must be default-constructible (Boost.Serialization "
                "constructs it, then loads it); add a default constructor.");
}

template <class Tuple>
constexpr void check_sendable_tuple() {
  []<std::size_t... I>(std::index_sequence<I...>) { (check_sendable<std::tuple_element_t<I, Tuple>>(), ...); }
  (std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

/// The argument tuple as it travels: the function's own parameter types when it has one
/// signature (so a const char* literal travels as the std::string the function takes).
template <class F, class... Args>
struct wire_args {
  using type = std::tuple<std::decay_t<Args>...>;
};
template <class F, class... Args>
requires(signature<F>::known&& std::tuple_size_v<typename signature<F>::params> ==
         sizeof...(Args)) struct wire_args<F, Args...> {
  using type = typename signature<F>::params;
};
template <class F, class... Args>
using wire_args_t = typename wire_args<F, Args...>::type;

template <class F, class Item>
struct wire_item {
  using type = std::decay_t<Item>;
};
template <class F, class Item>
requires(signature<F>::known&& std::tuple_size_v<typename signature<F>::params> == 1) struct wire_item<F, Item> {
  using type = std::tuple_element_t<0, typename signature<F>::params>;
};
/// One map item as it travels.
template <class F, class Item>
using wire_item_t = typename wire_item<F, Item>::type;

template <class F, class Item>
struct wire_star_item {
  using type = std::decay_t<Item>;
};
template <class F, class Item>
requires signature<F>::known struct wire_star_item<F, Item> {
  using type = typename signature<F>::params;
};
/// One starmap item (an argument tuple) as it travels.
template <class F, class Item>
using wire_star_item_t = typename wire_star_item<F, Item>::type;

template <class F, class ArgsTuple>
using apply_result_t = std::decay_t<decltype(std::apply(std::declval<F&>(), std::declval<ArgsTuple>()))>;

/// What a worker gets for one task.
struct TaskCall {
  CodeRef function;
  Reader args;
  Writer& results;
  std::uint64_t& item;              // the item being run, reported if it throws or crashes
  Reader detached{};                // the arguments sent apart from the batch (TaskHeader::detached_size)
  Writer* results_apart = nullptr;  // where raw result items may go apart (TaskHeader::detach_result)
};

using Invoker = void (*)(TaskCall&);

template <class F>
F callable_from(const CodeRef& function) {
  if constexpr (plain_function<F>) {
    return reinterpret_cast<F>(function.resolve());
  } else {
    return F{};
  }
}

template <class F>
CodeRef function_ref(F f) {
  if constexpr (plain_function<F>) {
    return CodeRef::of(code_address(f));
  } else {
    return {};
  }
}

/// f(args...) for apply/apply_async and pool initializers.
template <class F, class ArgsTuple>
void invoke_apply(TaskCall& call) {
  F f = callable_from<F>(call.function);
  auto args = call.args.read<ArgsTuple>();
  if constexpr (std::is_void_v<apply_result_t<F, ArgsTuple>>) {
    std::apply(f, std::move(args));
  } else {
    call.results.write(std::apply(f, std::move(args)));
  }
}

/// f(item) (or f(item...) when Star) for every item of a map/starmap/imap chunk.
template <class F, class Item, bool Star>
void invoke_map(TaskCall& call) {
  F f = callable_from<F>(call.function);
  // Raw items are read where they lie in the message, raw results written where they go in the
  // reply: a chunk costs its calls, not copies of itself.
  std::vector<Item> decoded;  // items that need decoding first
  const char* raw_items = nullptr;
  std::size_t count = 0;
  if constexpr (bulk_raw<Item>) {
    // A blocking map's items may come detached, sent from the caller's input as they lie.
    Reader& items = call.detached.empty() ? call.args : call.detached;
    count = call.args.read_size();
    raw_items = items.take_items(count, sizeof(Item)).data();
  } else {
    call.args.read_items<Item>([&decoded](std::size_t, Item&& item) { decoded.push_back(std::move(item)); });
    count = decoded.size();
  }
  auto item = [&](std::size_t i) -> Item {
    if constexpr (bulk_raw<Item>) {
      Item value;
      std::memcpy(&value, raw_items + i * sizeof(Item), sizeof(Item));
      return value;
    } else {
      return std::move(decoded[i]);
    }
  };
  auto run = [&f](Item&& value) -> decltype(auto) {
    if constexpr (Star) {
      return std::apply(f, std::move(value));
    } else {
      return f(std::move(value));
    }
  };
  using R = std::decay_t<decltype(run(std::declval<Item>()))>;
  // The loops count in a local and only store each index in call.item (which may live in a page
  // the rank reads after a crash): reading it back each time would chain the iterations.
  std::uint64_t& running = call.item;
  if constexpr (std::is_void_v<R>) {
    for (std::size_t i = 0; i < count; ++i) {
      running = i;
      run(item(i));
    }
    call.results.write_size(0);
  } else if constexpr (bulk_raw<R>) {
    call.results.write_size(count);
    char* out = (call.results_apart ? *call.results_apart : call.results).extend(count * sizeof(R));
    for (std::size_t i = 0; i < count; ++i) {
      running = i;
      const R result = run(item(i));
      std::memcpy(out + i * sizeof(R), &result, sizeof(R));
    }
  } else {
    std::vector<R> results;
    results.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      running = i;
      results.push_back(run(item(i)));
    }
    call.results.write_items<R>(results, results.size());
  }
}

/// The CodeRef of an invoker, computed once per instantiation.
template <Invoker invoker>
const CodeRef& invoker_ref() {
  static const CodeRef ref = CodeRef::of(code_address(invoker));
  return ref;
}

}  // namespace mpp::detail
