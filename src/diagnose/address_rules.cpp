#include "diagnose/address_rules.hpp"

#include "diagnose/rule_set.hpp"
#include "report/words.hpp"

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <map>
#include <set>

namespace smtpprobe::diagnose {
namespace {

/// Addresses grouped by what they show for one aspect, in the order the first of each group
/// was probed.
class Groups {
public:
    void add(std::string const& what, std::string const& address) {
        auto it = std::find_if(groups_.begin(), groups_.end(),
                               [&](auto const& g) { return g.first == what; });
        if (it == groups_.end())
            groups_.push_back({what, {address}});
        else
            it->second.push_back(address);
    }
    bool differ() const noexcept { return groups_.size() > 1; }
    bool any(std::string const& what) const {
        return std::any_of(groups_.begin(), groups_.end(),
                           [&](auto const& g) { return g.first == what; });
    }
    /// "127.0.0.2 presents an expired certificate; 127.0.0.1 presents a valid one": `verb`
    /// after the addresses; a repeated last word of the first phrase becomes "one".
    std::string sentence(std::string_view verb) const {
        std::string out;
        std::string noun;
        for (auto const& [what, addresses] : groups_) {
            std::string phrase = what;
            if (noun.empty()) {
                std::size_t const space = what.rfind(' ');
                noun = space == std::string::npos ? what : what.substr(space + 1);
            } else if (phrase.size() > noun.size() + 1 && phrase.ends_with(" " + noun)) {
                phrase = phrase.substr(0, phrase.size() - noun.size()) + "one";
            }
            if (!out.empty())
                out += "; ";
            out += list_words(addresses) + (verb.empty() ? "" : " ") + std::string(verb) + " " +
                   phrase;
        }
        return out;
    }
    /// "504 on 10.0.0.7, 334 on 10.0.0.8".
    std::string on_each() const {
        std::vector<std::string> parts;
        for (auto const& [what, addresses] : groups_)
            parts.push_back(what + " on " + list_words(addresses));
        return join(parts, ", ");
    }

private:
    std::vector<std::pair<std::string, std::vector<std::string>>> groups_;
};

std::string certificate_state(net::TlsInfo const& t) {
    if (t.verified())
        return "a valid certificate";
    if (!t.chain_verified) {
        switch (t.verify_code) {
        case X509_V_ERR_CERT_HAS_EXPIRED:
            return "an expired certificate";
        case X509_V_ERR_CERT_NOT_YET_VALID:
            return "a certificate that is not yet valid";
        case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
            return "a self-signed certificate";
        default:
            return "a certificate that fails verification (" + t.verify_error + ")";
        }
    }
    return "a certificate not valid for " + t.verify_name;
}

std::string tls_state(AddressProbe const& a) {
    if (a.tls)
        return "TLS (" + a.tls->version + ")";
    if (!a.tls_error.empty())
        return "no TLS (the handshake failed: " + a.tls_error + ")";
    return "no TLS";
}

std::vector<std::string> keywords(std::optional<smtp::Capabilities> const& caps) {
    return caps ? caps->keywords() : std::vector<std::string>{};
}

class AddressRules : RuleSet {
public:
    AddressRules(Report const& report, std::vector<Finding>& out) : RuleSet(report, out) {
        for (AddressProbe const& a : report.address_probes)
            if (a.session_established)
                up_.push_back(&a);
    }
    void run() {
        sessions();
        tls();
        certificates();
        capabilities("before TLS", &AddressProbe::before_tls);
        capabilities("after TLS", &AddressProbe::after_tls);
        auth();
        banners();
    }

private:
    void sessions() {
        Groups g;
        std::vector<std::string> evidence;
        for (AddressProbe const& a : r_.address_probes) {
            if (a.session_established) {
                g.add("reaches AUTH", a.address);
                continue;
            }
            std::string why = "gets no session";
            if (a.fatal)
                why += " (" + phase_and_detail(*a.fatal) + ")";
            g.add(why, a.address);
            evidence.push_back(a.address + ": " + why);
        }
        if (g.differ())
            add("addresses.session_differs", Severity::error, g.sentence(""),
                "A client that is given the failing address cannot send mail, one connection in "
                "so many: the classic intermittent failure of a pool behind one name. Fix or "
                "remove the failing node, or take its address out of " +
                    r_.host + ".",
                evidence);
    }

    void tls() {
        Groups states, versions;
        for (AddressProbe const* a : up_) {
            states.add(a->tls ? "TLS" : tls_state(*a), a->address);
            if (a->tls)
                versions.add(a->tls->version, a->address);
        }
        if (states.differ())
            add("addresses.tls_differs", Severity::error,
                "TLS differs between addresses: " + states.on_each(),
                "Clients that require TLS fail on the addresses without it, and clients that do "
                "not require it send credentials in the clear there. Every node should offer the "
                "same TLS.");
        else if (versions.differ())
            add("addresses.tls_version_differs", Severity::warning,
                "TLS version differs between addresses: " + versions.on_each(),
                "The nodes run different TLS configurations; a client limited to one version "
                "works on some nodes only.");
    }

    void certificates() {
        Groups states, fingerprints;
        std::vector<std::string> evidence;
        for (AddressProbe const* a : up_) {
            if (!a->tls)
                continue;
            states.add(certificate_state(*a->tls), a->address);
            if (!a->tls->chain.empty()) {
                net::CertificateInfo const& leaf = a->tls->chain.front();
                fingerprints.add(leaf.sha256, a->address);
                evidence.push_back(a->address + ": " + certificate_state(*a->tls) + ", SHA-256 " +
                                   leaf.sha256 + ", valid until " + leaf.not_after);
            }
        }
        if (states.differ()) {
            add("addresses.certificate_differs", Severity::error, states.sentence("presents"),
                "Verifying clients refuse the nodes whose certificate fails verification, so mail "
                "fails only when a client lands on them. Install the same valid certificate on "
                "every node behind " +
                    r_.host + ".",
                evidence);
        } else if (fingerprints.differ()) {
            add("addresses.certificates_differ", Severity::info,
                "Each address presents its own certificate (" +
                    certificate_state(*up_.front()->tls) + " on every one)",
                "Each node has its own certificate. That is fine while all of them verify; watch "
                "the expiry of each (the evidence lists them).",
                evidence);
        }
    }

    void capabilities(std::string const& when,
                      std::optional<smtp::Capabilities> AddressProbe::*which) {
        std::set<std::string> all;
        for (AddressProbe const* a : up_)
            for (std::string const& k : keywords(a->*which))
                all.insert(k);
        std::vector<std::string> lacks;
        for (AddressProbe const* a : up_) {
            if (!(a->*which))
                continue;
            std::vector<std::string> const mine = keywords(a->*which);
            std::vector<std::string> missing;
            for (std::string const& k : all)
                if (std::find(mine.begin(), mine.end(), k) == mine.end())
                    missing.push_back(k);
            if (!missing.empty())
                lacks.push_back(a->address + " lacks " + list_words(missing));
        }
        if (!lacks.empty())
            add("addresses.capabilities_differ", Severity::warning,
                "EHLO capabilities " + when + " differ between addresses: " + join(lacks, "; "),
                "The nodes are configured differently: what a client may use depends on the node "
                "it reaches. (AUTH differences have a finding of their own.)");
    }

    void auth() {
        std::vector<std::string> names;
        for (AddressProbe const* a : up_)
            for (MechanismRow const& row : a->rows)
                if (std::find(names.begin(), names.end(), row.name) == names.end())
                    names.push_back(row.name);
        std::vector<std::string> lines;
        bool breaks = false;
        for (std::string const& name : names) {
            Groups recognition, authentication;
            for (AddressProbe const* a : up_) {
                MechanismRow const* row = find_row(a->rows, name);
                if (row == nullptr) {
                    recognition.add("not probed", a->address);
                    continue;
                }
                recognition.add(code_or_status(row->recognition.reply, row->recognition.status),
                                a->address);
                if (row->authentication.status != Status::skipped)
                    authentication.add(
                        code_or_status(row->authentication.reply, row->authentication.status),
                        a->address);
            }
            if (recognition.differ()) {
                lines.push_back("AUTH " + name + ": " + recognition.on_each());
                breaks = breaks || recognition.any("334");
            }
            if (authentication.differ()) {
                lines.push_back("AUTH " + name +
                                " with the credentials: " + authentication.on_each());
                breaks = breaks || authentication.any("235");
            }
        }
        if (lines.empty())
            return;
        std::string title = lines.front();
        if (lines.size() > 1)
            title += " (and " + std::to_string(lines.size() - 1) + " more)";
        add("addresses.auth_differs", breaks ? Severity::error : Severity::warning, title,
            "The nodes answer AUTH differently, so a client's login works or fails depending on "
            "the node it reaches. Give every node the same SASL configuration.",
            lines);
    }

    void banners() {
        Groups g;
        for (AddressProbe const* a : up_) {
            std::string const host = a->banner_host();
            g.add(host.empty() ? "(no name)" : host, a->address);
        }
        if (g.differ())
            add("addresses.banner_differs", Severity::info,
                "The banners name different hosts: " + g.on_each(),
                "Normal for a pool; it tells which node answered in each transcript.");
    }

    std::vector<AddressProbe const*> up_; ///< the addresses that reached AUTH
};

} // namespace

std::vector<Finding> address_findings(Report const& report) {
    std::vector<Finding> out;
    if (report.address_probes.empty()) {
        if (report.addresses.size() > 1) {
            std::string const probed = report.connected_address.empty()
                                           ? "none of them"
                                           : "only " + report.connected_address;
            out.push_back({"addresses.not_all_probed", Severity::info,
                           report.host + " has " + std::to_string(report.addresses.size()) +
                               " addresses; " + probed + " was probed",
                           "Every connection went to the first address that accepted. Clients "
                           "reach any of them, so a broken node shows up as a failure one time "
                           "in so many. --all-addresses (in an exporter module: all_addresses: "
                           "true) probes each address on its own (at most 16).",
                           report.addresses});
        }
        return out;
    }
    AddressRules(report, out).run();
    if (report.addresses_not_probed > 0)
        out.push_back({"addresses.over_limit",
                       Severity::info,
                       std::to_string(report.address_probes.size()) + " of " +
                           std::to_string(report.addresses.size()) + " addresses probed",
                       "--all-addresses probes at most 16 addresses of a name; the others are "
                       "listed in the report but were not contacted.",
                       {}});
    return out;
}

} // namespace smtpprobe::diagnose
