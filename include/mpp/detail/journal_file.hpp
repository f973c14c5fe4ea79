#pragma once
// The journal file of one map (see mpp/journal.hpp): the saved records it held when opened,
// and a GroupWriter that appends new ones.
//
// Layout: a FileHeader, then records: a RecordHeader followed by the chunk's result bytes,
// exactly as the worker sent them (so replaying a record is delivering it again).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "mpp/detail/group_writer.hpp"
#include "mpp/detail/wire.hpp"

namespace mpp::detail {

/// What a journal was written for; a rerun must match it.
struct JournalIdentity {
  std::uint64_t items = 0;
  std::uint64_t function_key = 0;  // the task function and its argument and result types
  std::string function_name;       // for the error message
};

class JournalFile {
 public:
  struct Saved {
    std::uint64_t count;
    std::uint64_t args_hash;
    Bytes results;
  };

  /// Opens (or creates) the journal at `path` for a map of `identity` cut into chunks of
  /// `chunksize` items. An existing journal must match the identity (UsageError otherwise);
  /// its chunksize wins, so the chunks line up with its records. A torn last record is cut off.
  JournalFile(std::string path, const JournalIdentity& identity, std::uint64_t chunksize,
              std::chrono::milliseconds commit_interval);
  ~JournalFile();
  JournalFile(const JournalFile&) = delete;
  JournalFile& operator=(const JournalFile&) = delete;

  const std::string& path() const { return path_; }
  std::uint64_t chunksize() const { return chunksize_; }
  /// The records found when the journal was opened, by first item.
  const std::map<std::uint64_t, Saved>& saved() const { return saved_; }
  /// Frees the saved records once they are replayed.
  void forget_saved() { saved_.clear(); }

  /// Queues a record for the writer thread; throws if an earlier write failed.
  void append(std::uint64_t first, std::uint64_t count, std::uint64_t args_hash, std::span<const char> results);
  /// Returns once every appended record is on disk (fdatasync); throws if writing failed.
  void flush() { writer_->flush(); }

 private:
  void load(const JournalIdentity& identity);

  std::string path_;
  int fd_ = -1;
  std::uint64_t chunksize_ = 0;
  std::map<std::uint64_t, Saved> saved_;
  std::optional<GroupWriter> writer_;
};

/// Hash of a chunk's argument bytes: the key a journal record is checked against.
std::uint64_t journal_args_hash(std::span<const char> args);

}  // namespace mpp::detail
