#include "ebbs/net/connection.h"

namespace ebb::net {

void ConnectionState::deliver(IOBuf&& data) {
  if (on_receive_) on_receive_(std::move(data));
}

void ConnectionState::deliver_end() {
  if (on_end_) on_end_();
  else close();
}

void ConnectionState::queue_changed(std::size_t queued) {
  if (!full_) {
    full_ = queued > options_.send_high_watermark;
  } else if (queued <= options_.send_low_watermark) {
    full_ = false;
    if (on_writable_) on_writable_();
  }
}

void ConnectionState::finished(const Status& why) {
  if (finished_) return;
  finished_ = true;
  full_ = false;
  // The handlers may hold handles on this connection: dropping them here
  // breaks those cycles. on_close itself goes last, after being moved out.
  Function<void(const Status&)> on_close = std::move(on_close_);
  on_receive_ = {};
  on_end_ = {};
  on_writable_ = {};
  if (on_close) on_close(why);
}

}  // namespace ebb::net
