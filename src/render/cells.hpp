#pragma once
// The words of the report's cells, one copy for the text and HTML renderers
// (render/cells.cpp): the AUTH matrix's RECOGNISED, AUTHENTICATED and REPLY columns, a
// certificate's validity, the worst finding.

#include "report/report.hpp"

#include <string>
#include <vector>

namespace smtpprobe::cells {

/// The RECOGNISED column: "yes", "yes (235!)", "no", "refused", "temp. fail", ...
std::string recognised_cell(Recognition const& r);
/// The REPLY column without credentials: "334 \"Username:\", \"*\" -> 501 5.7.0".
std::string recognition_detail(Recognition const& r);
/// The AUTHENTICATED column: the row's verdict in words, never a bare failure.
std::string auth_cell(MechanismRow const& m);
/// The REPLY column with credentials: the exchange's last reply when credentials went out.
std::string auth_detail(MechanismRow const& m);
/// "valid FROM to TO (N day(s) left)", or expired / not yet valid.
std::string validity(net::CertificateInfo const& c);
/// "socks5://h:1080 (from the environment: ALL_PROXY), reached at ...; ...": the proxy used,
/// in words (the path must have one).
std::string proxy_text(ConnectionPath const& p);
/// The envelope's circumstances: "connection 7, after AUTH LOGIN; a message was sent".
std::string envelope_context(Envelope const& e);
/// With --send, what became of the message, first in the envelope's section: "A test message
/// WAS SENT to ..., queued as ... (N bytes, built by smtpprobe)." or "--send: NO message was
/// sent: why."; empty without --send.
std::string envelope_outcome(Envelope const& e);
/// The first finding of the highest severity; null when there is none.
Finding const* worst_finding(std::vector<Finding> const& findings) noexcept;

} // namespace smtpprobe::cells
