#include "engine/plan.hpp"

#include "sasl/mechanisms.hpp"
#include "sasl/sasl.hpp"
#include "smtp/ascii.hpp"

#include <algorithm>

namespace smtpprobe::engine {

Plan::Plan(PlanInput input) : input_(std::move(input)) {
    if (!input_.mechanisms.empty()) {
        for (std::string const& name : input_.mechanisms)
            add_row(name);
        extras_added_ = true; // the user chose the rows
        return;
    }
    for (sasl::Mechanism const& m : sasl::catalogue())
        add_row(std::string(m.name));
}

void Plan::add_row(std::string const& name) {
    std::string const upper = smtp::to_upper(name);
    for (MechanismRow const& row : rows_)
        if (row.name == upper)
            return;
    MechanismRow row;
    row.name = upper;
    row.catalogue = sasl::find_mechanism(upper) != nullptr;
    row.implemented = sasl::client_implements(upper);
    Task task{rows_.size(), false, 0};
    if (row.implemented && sasl::uses_certificate(upper)) {
        // EXTERNAL's credential is the client certificate, with or without a user.
        task.authenticate = input_.certificate;
        row.authentication.cannot_try = !input_.certificate;
        if (!input_.certificate)
            row.authentication.reason = "cannot try (no client certificate: --cert/--key)";
    } else if (input_.credentials && row.implemented) {
        bool const token = sasl::uses_token(upper);
        // ANONYMOUS needs no secret: with credentials given, it shows whether the server lets
        // anyone in.
        // GSSAPI without a password uses the caller's ticket cache (KRB5CCNAME).
        bool const have = sasl::needs_no_secret(upper) || sasl::uses_ticket(upper) ||
                          (token ? input_.token : input_.password);
        task.authenticate = have;
        if (!have)
            row.authentication.reason =
                token ? "no OAuth token given (--oauth-token-env / --oauth-token-file)"
                      : "no password given";
    } else if (input_.credentials) {
        row.authentication.reason = "not implemented by smtpprobe";
    } else {
        row.authentication.reason = "no credentials given";
    }
    rows_.push_back(std::move(row));
    // Credential exchanges are the slow ones (fresh session each, failure delays): first,
    // in catalogue order, ahead of the recognitions.
    if (task.authenticate)
        queue_.insert(std::find_if(queue_.begin(), queue_.end(),
                                   [](Task const& t) { return !t.authenticate; }),
                      task);
    else
        queue_.push_back(task);
}

bool Plan::add_advertised(std::vector<std::string> const& names) {
    if (extras_added_)
        return true;
    extras_added_ = true;
    for (std::string const& name : names) {
        if (!sasl::valid_mechanism_name(name))
            continue;
        // A hostile or broken server may list hundreds of names; the catalogue plus
        // max_extra_mechanisms keeps the run bounded.
        if (rows_.size() >= sasl::catalogue().size() + max_extra_mechanisms)
            return false;
        add_row(name);
    }
    return true;
}

std::optional<Task> Plan::next() {
    if (queue_.empty())
        return std::nullopt;
    Task task = queue_.front();
    queue_.pop_front();
    return task;
}

void Plan::put_back(Task task) {
    queue_.push_front(task);
}

} // namespace smtpprobe::engine
