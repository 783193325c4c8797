#pragma once
// The sections of the text report, each in the file named beside it; render/text.cpp prints
// the heading, the server section and the timing line around them.

#include "diagnose/evaluate.hpp"
#include "render/text_style.hpp"

#include <string>

namespace smtpprobe::text {

/// The token preflight: the OAuth token's header and claims (render/text_token.cpp).
void token_section(Report const& report, Style const& style, std::string& out);
/// --all-addresses: one block per address (render/text_addresses.cpp).
void addresses_section(Report const& report, Style const& style, std::string& out);
/// The AUTH matrix and what an NTLM challenge disclosed (render/text_matrix.cpp).
void matrix_section(Report const& report, Style const& style, std::string& out);
void ntlm_section(Report const& report, Style const& style, std::string& out);
/// --mail-from / --rcpt: each envelope command, its reply, what it means and the fix
/// (render/text_envelope.cpp).
void envelope_section(Verdict const& verdict, Style const& style, std::string& out);
/// What the verdict says: checks, findings, client libraries, codes seen
/// (render/text_verdict.cpp).
void checks_section(Verdict const& verdict, Style const& style, std::string& out);
void findings_section(Verdict const& verdict, Style const& style, std::string& out);
void clients_section(Verdict const& verdict, Style const& style, std::string& out);
void explanations_section(Verdict const& verdict, Style const& style, std::string& out);

} // namespace smtpprobe::text
