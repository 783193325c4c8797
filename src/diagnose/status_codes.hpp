#pragma once
// Explanations of SMTP reply codes (RFC 5321 §4.2.3, RFC 4954 §6) and enhanced status codes
// (RFC 3463, IANA registry), with vendor overlays where providers use a code differently from
// the registry. Facts come from the project's reference notes, smtp-facts.md §1.1, §1.8,
// §1.11, §2.0 and §3.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smtpprobe::diagnose {

struct Meaning {
    std::string subject; ///< what is explained: "504", "5.7.4", "X.7.4", "5.X.X"
    std::string text;    ///< the meaning in one sentence
    std::string source;  ///< "RFC 5321 §4.2.3", "Microsoft (Exchange Online)", ...
    std::string advice;  ///< what a user should do; may be empty
};

/// Meanings for a reply code and/or an enhanced code (either may be 0 / empty), in this order:
/// reply code, enhanced class, registry entry (or the subject when the detail is not
/// registered), vendor overlays.
///
/// `vendor_hint` is a host name or banner text ("smtp.office365.com", "... Microsoft ESMTP ...",
/// "smtp.gmail.com", "smtp.azurecomm.net"). A recognised vendor adds its overlays. Without a
/// recognised vendor, overlays for codes with a well-known vendor meaning (5.7.139, 5.7.57,
/// 5.7.30, 5.7.3, 5.7.4: Microsoft) are still added, their text starting "(vendor meaning)".
/// A hint naming another vendor suppresses them.
///
/// Enhanced codes are accepted with class 2, 4, 5 or X ("X.7.4"); a malformed one is reported
/// as such rather than ignored.
std::vector<Meaning> explain(int reply_code, std::string_view enhanced,
                             std::string_view vendor_hint = {});

/// A reply code and/or enhanced code typed by a user.
struct CodeQuery {
    int reply_code = 0;   ///< 0 when absent
    std::string enhanced; ///< empty when absent
};

/// Parses "504 5.7.4", "5.7.139", "535", "504-5.7.4", "X.7.4"; text after the codes (a pasted
/// reply such as "535 5.7.8 Username and Password not accepted") is ignored. nullopt when
/// neither a valid reply code (RFC 5321 §4.2: [2-5][0-5][0-9]) nor a valid enhanced code
/// (RFC 3463 §2) is found.
std::optional<CodeQuery> parse_code_query(std::string_view text);

/// One entry of the IANA SMTP Enhanced Status Codes registry as compiled in from
/// data/enhanced-status-codes.json (see scripts/gen-status-registry.py).
struct RegistryEntry {
    std::string_view code;      ///< "X.7.4"
    std::string_view text;      ///< sample text
    std::string_view reference; ///< "RFC3463", "RFC7372; RFC6376", ...
};

/// The compiled-in registry, in registry order.
std::span<RegistryEntry const> enhanced_status_registry() noexcept;

} // namespace smtpprobe::diagnose
