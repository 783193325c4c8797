#pragma once
// The sections of the text report that print the verdict (checks, findings, client
// libraries, codes seen); render/text.cpp prints the report's own sections around them.

#include "diagnose/evaluate.hpp"
#include "render/text_style.hpp"

#include <string>

namespace smtpprobe::text {

/// --all-addresses: one block per address (render/text_addresses.cpp).
void addresses_section(Report const& report, Style const& style, std::string& out);
void checks_section(Verdict const& verdict, Style const& style, std::string& out);
void findings_section(Verdict const& verdict, Style const& style, std::string& out);
void clients_section(Verdict const& verdict, Style const& style, std::string& out);
void explanations_section(Verdict const& verdict, Style const& style, std::string& out);

} // namespace smtpprobe::text
