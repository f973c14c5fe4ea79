#include "mpp/detail/code_ref.hpp"

#include <cxxabi.h>
#include <elf.h>
#include <link.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mpp/detail/fingerprint.hpp"
#include "mpp/detail/malformed_message.hpp"

namespace mpp::detail {
namespace {

/// One loaded segment of a module.
struct Module {
  std::uintptr_t begin;
  std::uintptr_t end;
  std::uintptr_t base;  // dlpi_addr: what offsets are relative to
  std::uint64_t name_hash;
  bool executable;
};

/// A thread's last few answers from the module table, each valid while the table is not
/// re-read: a tiny pool task looks up its invoker and its function, and the table's shared lock
/// and search cost as much as the task itself.
template <class Key, class Value>
class RecentAnswers {
 public:
  std::optional<Value> find(const Key& key, std::uint64_t generation) const {
    for (const auto& answer : answers_)
      if (answer.generation == generation && answer.key == key) return answer.value;
    return std::nullopt;
  }

  void keep(const Key& key, const Value& value, std::uint64_t generation) {
    answers_[next_] = {generation, key, value};
    next_ = (next_ + 1) % answers_.size();
  }

 private:
  struct Answer {
    std::uint64_t generation = 0;  // 0: none yet (the table's generations start at 1)
    Key key{};
    Value value{};
  };
  std::array<Answer, 4> answers_{};
  std::size_t next_ = 0;
};

/// The loaded modules, re-read from the dynamic linker when an address or hash is unknown
/// (a library dlopen'ed after the last look).
class ModuleTable {
 public:
  CodeRef find(std::uintptr_t address) {
    thread_local RecentAnswers<std::uintptr_t, CodeRef> recent;
    if (auto ref = answer(recent, address, [this](std::uintptr_t a) { return lookup(a); })) return *ref;
    throw std::invalid_argument("mpp: cannot ship a function at " + std::to_string(address) +
                                ": no loaded module contains it");
  }

  /// The address of `ref` here, checked to lie in an executable segment of its module, so a
  /// corrupted reference is refused rather than jumped to.
  std::uintptr_t code_at(const CodeRef& ref) {
    thread_local RecentAnswers<CodeRef, std::uintptr_t> recent;
    if (auto address = answer(recent, ref, [this](const CodeRef& r) { return lookup_code(r); })) return *address;
    if (!lookup_base(ref.module))
      throw MalformedMessage(
          "mpp: a task names code in a module that is not loaded on this rank; every rank must run "
          "the same executable with the same shared libraries");
    throw MalformedMessage("mpp: a task names code at offset " + std::to_string(ref.offset) +
                           ", outside the executable code of its module");
  }

 private:
  /// What `recent` remembers of `key`, else what `look_up` finds, re-reading the table once if
  /// it finds nothing.
  template <class Key, class Value, class LookUp>
  std::optional<Value> answer(RecentAnswers<Key, Value>& recent, const Key& key, LookUp look_up) {
    const auto generation = generation_.load();
    if (auto value = recent.find(key, generation)) return value;
    auto value = look_up(key);
    if (!value) {
      refresh();
      value = look_up(key);
    }
    if (value) recent.keep(key, *value, generation);
    return value;
  }

  std::optional<CodeRef> lookup(std::uintptr_t address) {
    std::shared_lock lock(mutex_);
    auto it = std::upper_bound(modules_.begin(), modules_.end(), address,
                               [](std::uintptr_t a, const Module& m) { return a < m.begin; });
    if (it == modules_.begin()) return std::nullopt;
    --it;
    if (address >= it->end) return std::nullopt;
    return CodeRef{it->name_hash, address - it->base};
  }

  /// The address `ref` names, if it lies in an executable segment of its module: one pass.
  std::optional<std::uintptr_t> lookup_code(const CodeRef& ref) {
    std::shared_lock lock(mutex_);
    for (const auto& m : modules_) {
      if (m.name_hash != ref.module || !m.executable || ref.offset > UINTPTR_MAX - m.base) continue;
      const std::uintptr_t address = m.base + ref.offset;
      if (address >= m.begin && address < m.end) return address;
    }
    return std::nullopt;
  }

  std::optional<std::uintptr_t> lookup_base(std::uint64_t name_hash) {
    std::shared_lock lock(mutex_);
    for (const auto& m : modules_)
      if (m.name_hash == name_hash) return m.base;
    return std::nullopt;
  }

  void refresh() {
    std::vector<Module> modules;
    dl_iterate_phdr(
        [](dl_phdr_info* info, std::size_t, void* out) {
          const std::string_view name = info->dlpi_name ? info->dlpi_name : "";
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const auto& ph = info->dlpi_phdr[i];
            if (ph.p_type != PT_LOAD) continue;
            const std::uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
            static_cast<std::vector<Module>*>(out)->push_back({begin, begin + ph.p_memsz, info->dlpi_addr,
                                                               fnv1a(name.data(), name.size()),
                                                               (ph.p_flags & PF_X) != 0});
          }
          return 0;
        },
        &modules);
    std::sort(modules.begin(), modules.end(), [](const Module& a, const Module& b) { return a.begin < b.begin; });
    std::unique_lock lock(mutex_);
    modules_ = std::move(modules);
    ++generation_;  // what threads kept from the old table is looked up again
  }

  std::shared_mutex mutex_;
  std::vector<Module> modules_;
  std::atomic<std::uint64_t> generation_{1};
};

ModuleTable& modules() {
  static ModuleTable table;
  return table;
}

}  // namespace

CodeRef CodeRef::of(const void* code) { return modules().find(reinterpret_cast<std::uintptr_t>(code)); }

void* CodeRef::resolve() const { return reinterpret_cast<void*>(modules().code_at(*this)); }

std::uint64_t executable_fingerprint() {
  std::uint64_t hash = 1469598103934665603ull;
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* out) {
        auto& h = *static_cast<std::uint64_t*>(out);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const auto& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD) {
            const std::uint64_t layout[] = {ph.p_vaddr, ph.p_memsz, ph.p_filesz};
            h = fnv1a(layout, sizeof layout, h);
          } else if (ph.p_type == PT_NOTE) {  // holds the GNU build id when the linker wrote one
            h = fnv1a(reinterpret_cast<const void*>(info->dlpi_addr + ph.p_vaddr), ph.p_memsz, h);
          }
        }
        return 1;  // the first entry is the main program
      },
      &hash);
  return hash;
}

std::string demangled(const char* name) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), &std::free);
  return status == 0 && out ? std::string(out.get()) : std::string(name);
}

}  // namespace mpp::detail
