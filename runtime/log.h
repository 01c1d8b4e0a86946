#pragma once
// Logging: printf-style lines on the console, prefixed with the core. Meant
// for rare events (startup, warnings, shutdown), not for hot paths.

namespace ebb {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Lines below this level are dropped. Default kInfo; hosted processes read
// EBB_LOG=debug|info|warn|error at startup.
void set_log_level(LogLevel level);
LogLevel log_level();

void log_debug(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char* format, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace ebb
