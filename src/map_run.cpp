#include "mpp/detail/map_run.hpp"

#include <string>

#include "mpp/detail/engine.hpp"

namespace mpp::detail {
namespace {

constexpr const char* no_journal_advice =
    ", no journal: their results are lost; add mpp::journal(\"<file>\") to the map to keep them";

}  // namespace

MapRun::MapRun(std::size_t items, std::size_t chunksize, std::unique_ptr<JournalFile> journal, int retries,
               std::unique_ptr<StatusLogFile> status_log)
    : items_(items),
      chunksize_(chunksize),
      journal_(std::move(journal)),
      retries_(retries),
      status_log_(std::move(status_log)),
      chunks_((items + chunksize - 1) / chunksize) {}

const JournalFile::Saved* MapRun::plan(const Task& task) {
  auto& chunk = chunks_.at(task.first_index / chunksize_);
  if (retries_ > 0) chunk.wire = task.wire;
  if (!journal_) return nullptr;
  chunk.args_hash = journal_args_hash(std::span<const char>(task.wire).subspan(sizeof(TaskHeader)));
  const auto saved = journal_->saved().find(task.first_index);
  if (saved == journal_->saved().end()) return nullptr;
  const std::size_t count = chunk_length(task.first_index, chunksize_, items_);
  if (saved->second.count != count || saved->second.args_hash != chunk.args_hash)
    throw UsageError("mpp: journal " + journal_->path() + " holds results for items " +
                     std::to_string(task.first_index) + ".." +
                     std::to_string(task.first_index + saved->second.count - 1) +
                     " of other arguments than this map's. Nothing was mixed: pass another journal path, or delete "
                     "the file to start over");
  chunk.replayed = true;
  return &saved->second;
}

void MapRun::dispatched(std::uint64_t first, int rank) { chunks_.at(first / chunksize_).rank = rank; }

void MapRun::ran(std::uint64_t first, const TaskRun& run) {
  if (!status_log_) return;
  const auto& chunk = chunks_.at(first / chunksize_);
  status_log_->add(first, chunk_length(first, chunksize_, items_), chunk.failures.size() + 1, run);
}

void MapRun::delivered(std::uint64_t first, std::span<const char> results) {
  const std::size_t count = chunk_length(first, chunksize_, items_);
  const auto& chunk = chunks_.at(first / chunksize_);
  if (journal_ && !chunk.replayed) journal_->append(first, count, chunk.args_hash, results);
  if (progress_ && !chunk.replayed) progress_->add(count);  // the meter started with the replayed ones
}

bool MapRun::retry(std::uint64_t first, RemoteError& error) {
  auto& chunk = chunks_.at(first / chunksize_);
  chunk.failures.push_back(error);
  if (static_cast<int>(chunk.failures.size()) <= retries_ && resubmit_ && resubmit_(chunk.wire, first, chunk.rank))
    return true;
  if (chunk.failures.size() > 1) {
    std::string attempts = error.message() + " — every attempt failed:";
    for (std::size_t i = 0; i < chunk.failures.size(); ++i) {
      const auto& failed = chunk.failures[i];
      attempts += " [" + std::to_string(i + 1) + "] " + failed.type() + ": " + failed.message() + " on rank " +
                  std::to_string(failed.rank()) + ", host " + failed.host() + ";";
    }
    attempts.pop_back();
    error = RemoteError(error.type(), attempts, error.rank(), error.host(), error.item(), error.thrown_as());
  }
  return false;
}

void MapRun::finish() {
  if (journal_) {
    journal_->flush();
    journal_.reset();  // the file is free for a rerun while stray results of a terminated map trickle in
  }
  if (status_log_) {
    status_log_->flush();
    status_log_.reset();
  }
  if (progress_) progress_->finish();
}

std::string MapRun::flush_for_wall_time() {
  std::string where = no_journal_advice;
  if (journal_) {
    journal_->flush();
    where = ", journal " + journal_->path();
  }
  if (!status_log_) return where;
  status_log_->flush();
  return where + " (status log " + status_log_->path() + ")";
}

std::string map_wall_time_report(std::size_t done, std::size_t items, MapRun* run) {
  const std::string report = "map: " + std::to_string(done) + " of " + std::to_string(items) + " items done";
  if (!run) return report + no_journal_advice;
  try {
    return report + run->flush_for_wall_time();
  } catch (const std::exception& e) {
    return report + "; " + e.what();
  }
}

}  // namespace mpp::detail
