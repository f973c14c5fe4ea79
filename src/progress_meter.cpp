#include "mpp/detail/progress_meter.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace mpp::detail {
namespace {

std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  char text[32];
  std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  return text;
}

}  // namespace

ProgressMeter::ProgressMeter(std::size_t total, std::size_t already_done, std::FILE* out, bool terminal,
                             std::chrono::seconds plain_interval,
                             std::optional<std::chrono::system_clock::time_point> job_end, ProgressWords words)
    : words_(std::move(words)),
      total_(total),
      done_(already_done),
      resumed_(already_done),
      out_(out),
      terminal_(terminal),
      interval_(terminal ? Clock::duration(std::chrono::milliseconds(200)) : Clock::duration(plain_interval)),
      job_end_(job_end),
      last_draw_(start_) {
  if (terminal_ || resumed_ > 0) draw(start_);
}

void ProgressMeter::add(std::size_t items) {
  done_ += items;
  const auto now = Clock::now();
  if (now - last_draw_ >= interval_ && done_ < total_) draw(now);
  if (job_end_ && !warned_ && done_ < total_ && now - start_ >= std::chrono::seconds(5)) warn_if_late(now);
}

void ProgressMeter::finish() {
  draw(Clock::now());
  if (terminal_) std::fputc('\n', out_);
  std::fflush(out_);
}

std::string ProgressMeter::line(Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_ - resumed_) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
  const double percent = total_ == 0 ? 100 : 100.0 * static_cast<double>(done_) / static_cast<double>(total_);
  std::string text = words_.run + " ";
  if (terminal_) {
    constexpr std::size_t width = 24;
    const auto filled = std::min(width, static_cast<std::size_t>(percent / 100 * width));
    text += '[';
    text.append(filled, '#').append(width - filled, '.');
    text += "] ";
  }
  char numbers[160];
  const char* unit = words_.unit.c_str();
  std::snprintf(numbers, sizeof numbers, "%zu/%zu %s (%.0f%%), %.3g %s/s, elapsed %s, ETA %s", done_, total_, unit,
                percent, rate, unit, clock_text(elapsed).c_str(),
                done_ >= total_ ? "0:00:00" : clock_text(eta).c_str());
  text += numbers;
  if (resumed_ > 0) text += ", " + std::to_string(resumed_) + " from " + words_.record;
  return text;
}

void ProgressMeter::draw(Clock::time_point now) {
  last_draw_ = now;
  const std::string text = line(now);
  if (terminal_) {
    std::fprintf(out_, "\r%s\033[K", text.c_str());
  } else {
    std::fprintf(out_, "%s\n", text.c_str());
  }
  std::fflush(out_);
}

void ProgressMeter::warn_if_late(Clock::time_point now) {
  if (done_ <= resumed_) return;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double eta = static_cast<double>(total_ - done_) * elapsed / static_cast<double>(done_ - resumed_);
  const auto finish =
      std::chrono::system_clock::now() +
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(eta));
  if (finish <= *job_end_) return;
  warned_ = true;
  std::fprintf(out_,
               "%s%s: warning: at this rate it ends after the job's time limit (ETA %s); with %s a "
               "resubmitted job continues where this one stops\n",
               terminal_ ? "\n" : "", words_.run.c_str(), clock_text(eta).c_str(), words_.record.c_str());
  std::fflush(out_);
}

}  // namespace mpp::detail
