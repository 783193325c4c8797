#pragma once
// Private to diagnose/*rules.cpp: what every set of rules shares, the report it reads and the
// list its findings go to, in the order they are added.

#include "report/report.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtpprobe::diagnose {

class RuleSet {
protected:
    RuleSet(Report const& report, std::vector<Finding>& out) : r_(report), out_(out) {}

    void add(std::string id, Severity severity, std::string title, std::string detail,
             std::vector<std::string> evidence = {}) {
        out_.push_back(
            {std::move(id), severity, std::move(title), std::move(detail), std::move(evidence)});
    }
    /// The matrix row of `name` (upper case), or null.
    MechanismRow const* row(std::string_view name) const { return find_row(r_.rows, name); }

    Report const& r_;
    std::vector<Finding>& out_;
};

} // namespace smtpprobe::diagnose
