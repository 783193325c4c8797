#include "report/report.hpp"

namespace smtpprobe {

std::string_view to_string(TlsMode mode) noexcept {
    switch (mode) {
    case TlsMode::auto_:
        return "auto";
    case TlsMode::starttls:
        return "starttls";
    case TlsMode::implicit:
        return "implicit";
    case TlsMode::none:
        return "none";
    }
    return "?";
}

std::string_view to_string(Status status) noexcept {
    switch (status) {
    case Status::pending:
        return "pending";
    case Status::recognised:
        return "recognised";
    case Status::not_supported:
        return "not_supported";
    case Status::refused:
        return "refused";
    case Status::temporary_failure:
        return "temporary_failure";
    case Status::accepted:
        return "accepted";
    case Status::rejected:
        return "rejected";
    case Status::error:
        return "error";
    case Status::skipped:
        return "skipped";
    }
    return "?";
}

} // namespace smtpprobe
