#include "mpp/detail/journal_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/crc.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include "mpp/detail/fingerprint.hpp"
#include "mpp/errors.hpp"
#include "mpp/journal.hpp"

namespace mpp::detail {
namespace {

constexpr char file_magic[8] = {'M', 'P', 'P', 'J', 'R', 'N', 'L', '\n'};
constexpr std::uint32_t file_version = 1;
constexpr std::uint32_t record_magic = 0x4D505052;  // "MPPR"

struct FileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t crc;  // of the fields below
  std::uint64_t items;
  std::uint64_t chunksize;
  std::uint64_t function_key;
};

struct RecordHeader {
  std::uint32_t magic;
  std::uint32_t crc;  // of the fields below and the result bytes
  std::uint64_t first;
  std::uint64_t count;
  std::uint64_t args_hash;
  std::uint64_t result_size;
};

std::uint32_t crc_of(const void* data, std::size_t size, const void* more = nullptr, std::size_t more_size = 0) {
  boost::crc_32_type crc;
  crc.process_bytes(data, size);
  if (more_size > 0) crc.process_bytes(more, more_size);
  return crc.checksum();
}

std::uint32_t header_crc(const FileHeader& h) { return crc_of(&h.items, sizeof h - offsetof(FileHeader, items)); }

std::string errno_text() { return std::strerror(errno); }

Bytes read_whole(int fd, const std::string& path) {
  struct stat info {};
  if (fstat(fd, &info) != 0) throw std::runtime_error("mpp: journal " + path + ": " + errno_text());
  Bytes bytes(static_cast<std::size_t>(info.st_size));
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = pread(fd, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("mpp: journal " + path + ": read failed: " + errno_text());
    got += static_cast<std::size_t>(n);
  }
  return bytes;
}

/// The header of a journal file's bytes, or an error naming what is wrong.
FileHeader parse_header(const Bytes& bytes, const std::string& path) {
  FileHeader header{};
  if (bytes.size() < sizeof header)
    throw std::runtime_error("mpp: " + path + " is not an mpp journal (too short for its header)");
  std::memcpy(&header, bytes.data(), sizeof header);
  if (std::memcmp(header.magic, file_magic, sizeof file_magic) != 0 || header.crc != header_crc(header))
    throw std::runtime_error("mpp: " + path + " is not an mpp journal (or its header is damaged); pass another path");
  if (header.version != file_version)
    throw std::runtime_error("mpp: journal " + path + " has format version " + std::to_string(header.version) +
                             "; this mpp reads version " + std::to_string(file_version));
  return header;
}

/// Walks the whole, valid records after the header; returns where the valid part ends.
template <class Visit>
std::size_t walk_records(const Bytes& bytes, const FileHeader& header, Visit&& visit) {
  std::size_t at = sizeof(FileHeader);
  while (bytes.size() - at >= sizeof(RecordHeader)) {
    RecordHeader record{};
    std::memcpy(&record, bytes.data() + at, sizeof record);
    const std::size_t body = at + sizeof record;
    if (record.magic != record_magic || record.result_size > bytes.size() - body || record.count == 0 ||
        record.first >= header.items || record.count > header.items - record.first)
      break;
    if (record.crc !=
        crc_of(&record.first, sizeof record - offsetof(RecordHeader, first), bytes.data() + body, record.result_size))
      break;
    visit(record, std::span<const char>(bytes.data() + body, record.result_size));
    at = body + record.result_size;
  }
  return at;
}

}  // namespace

std::uint64_t journal_args_hash(std::span<const char> args) { return fnv1a(args.data(), args.size()); }

JournalFile::JournalFile(std::string path, const JournalIdentity& identity, std::uint64_t chunksize,
                         std::chrono::milliseconds commit_interval)
    : path_(std::move(path)), chunksize_(chunksize) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UsageError("mpp: cannot open journal " + path_ + ": " + errno_text());
  try {
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0)
      throw UsageError("mpp: journal " + path_ +
                       " is in use by another running map; give each map its own journal path");
    load(identity);
  } catch (...) {
    ::close(fd_);
    throw;
  }
  writer_.emplace(fd_, "journal " + path_, commit_interval);
}

void JournalFile::load(const JournalIdentity& identity) {
  const Bytes bytes = read_whole(fd_, path_);
  if (bytes.empty()) {  // a new journal
    FileHeader header{};
    std::memcpy(header.magic, file_magic, sizeof file_magic);
    header.version = file_version;
    header.items = identity.items;
    header.chunksize = chunksize_;
    header.function_key = identity.function_key;
    header.crc = header_crc(header);
    write_all(fd_, reinterpret_cast<const char*>(&header), sizeof header);
    if (fdatasync(fd_) != 0) throw std::runtime_error("mpp: journal " + path_ + ": " + errno_text());
    return;
  }
  const FileHeader header = parse_header(bytes, path_);
  if (header.items != identity.items || header.function_key != identity.function_key)
    throw UsageError("mpp: journal " + path_ + " was written for another map (" + std::to_string(header.items) +
                     " items" + (header.function_key != identity.function_key ? ", another function or build" : "") +
                     "); this map runs " + identity.function_name + " over " + std::to_string(identity.items) +
                     " items. Nothing was mixed: pass another journal path, or delete the file to start over");
  chunksize_ = header.chunksize;
  const std::size_t valid =
      walk_records(bytes, header, [this](const RecordHeader& record, std::span<const char> results) {
        saved_[record.first] = Saved{record.count, record.args_hash, Bytes(results.begin(), results.end())};
      });
  if (valid < bytes.size()) {
    std::cerr << "mpp: journal " << path_ << ": dropped a torn last record (" << bytes.size() - valid
              << " bytes, written when the job was stopped); its items run again\n";
    if (ftruncate(fd_, static_cast<off_t>(valid)) != 0)
      throw std::runtime_error("mpp: journal " + path_ + ": cannot cut the torn record: " + errno_text());
  }
  if (lseek(fd_, 0, SEEK_END) < 0) throw std::runtime_error("mpp: journal " + path_ + ": " + errno_text());
}

JournalFile::~JournalFile() {
  writer_.reset();  // writes what is queued
  ::close(fd_);     // releases the lock
}

void JournalFile::append(std::uint64_t first, std::uint64_t count, std::uint64_t args_hash,
                         std::span<const char> results) {
  RecordHeader record{record_magic, 0, first, count, args_hash, results.size()};
  record.crc = crc_of(&record.first, sizeof record - offsetof(RecordHeader, first), results.data(), results.size());
  writer_->append(std::span<const char>(reinterpret_cast<const char*>(&record), sizeof record), results);
}

}  // namespace mpp::detail

namespace mpp {

Journal journal(std::string path, std::chrono::milliseconds commit_interval) {
  if (path.empty()) throw std::invalid_argument("mpp::journal needs a file path");
  if (commit_interval.count() <= 0) throw std::invalid_argument("mpp::journal: commit_interval must be positive");
  return Journal{std::move(path), commit_interval};
}

JournalStatus journal_status(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("mpp: cannot open journal " + path + ": " + detail::errno_text());
  detail::Bytes bytes;
  try {
    bytes = detail::read_whole(fd, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  const auto header = detail::parse_header(bytes, path);
  JournalStatus status{header.items, 0};
  std::map<std::uint64_t, std::uint64_t> counts;  // a chunk journaled twice counts once
  detail::walk_records(bytes, header, [&counts](const detail::RecordHeader& record, std::span<const char>) {
    counts[record.first] = record.count;
  });
  for (const auto& [first, count] : counts) status.done += count;
  return status;
}

}  // namespace mpp
