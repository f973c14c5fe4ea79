#pragma once
// Python's callback= and error_callback= keywords, spelled as trailing arguments:
//
//   pool.apply_async(square, 20, mpp::callback([&](int r) { results.push_back(r); }));
//   pool.map_async(parse, files, mpp::error_callback([](const mpp::RemoteError& e) { log(e.what()); }));
//
// They run on the master, one at a time, in completion order, on the thread that delivers
// results (mpp's progress thread, or a thread waiting in get()/join()), before the result
// counts as ready. Like Python's, they should be quick and must not wait on other results.
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include "mpp/errors.hpp"

namespace mpp {

template <class F>
struct Callback {
  F function;
};
template <class F>
struct ErrorCallback {
  F function;
};

/// Called with the task's result (for map_async: the whole result vector).
template <class F>
Callback<std::decay_t<F>> callback(F&& function) {
  return {std::forward<F>(function)};
}
/// Called with the RemoteError of a task that threw.
template <class F>
ErrorCallback<std::decay_t<F>> error_callback(F&& function) {
  return {std::forward<F>(function)};
}

namespace detail {

template <class T>
struct is_callback_option : std::false_type {};
template <class F>
struct is_callback_option<Callback<F>> : std::true_type {};
template <class F>
struct is_callback_option<ErrorCallback<F>> : std::true_type {};
template <class T>
inline constexpr bool is_callback_option_v = is_callback_option<std::remove_cvref_t<T>>::value;

template <class T>
struct result_callback {
  using type = std::function<void(const T&)>;
};
template <>
struct result_callback<void> {
  using type = std::function<void()>;
};

/// apply_async's arguments: the task's own, then trailing callback options. Index with
/// `Positional` and `Options` (index sequences); the options are counted from the end.
template <class... Args>
struct TrailingOptions {
  static constexpr std::size_t options = (std::size_t{is_callback_option_v<Args>} + ... + 0);
  static constexpr std::size_t positional = sizeof...(Args) - options;
  using Positional = std::make_index_sequence<positional>;
  using Options = std::make_index_sequence<options>;
};

/// The callbacks of one job, type-erased.
template <class T>
struct Callbacks {
  typename result_callback<T>::type on_result;
  std::function<void(const RemoteError&)> on_error;

  template <class F>
  void set(Callback<F>&& option) {
    on_result = std::move(option.function);
  }
  template <class F>
  void set(ErrorCallback<F>&& option) {
    on_error = std::move(option.function);
  }
};

}  // namespace detail
}  // namespace mpp
