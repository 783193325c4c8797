#include "diagnose/auth_rules.hpp"

#include "diagnose/refusal_rules.hpp"
#include "diagnose/rule_set.hpp"
#include "report/words.hpp"
#include "sasl/ntlm_auth.hpp"

#include <algorithm>
#include <set>

namespace smtpprobe::diagnose {
namespace {

/// NTLM refused after a CHALLENGE (the information probe's) without TargetInfo.
bool refused_without_target_info(MechanismRow const& m) {
    if (m.name != "NTLM" || m.authentication.status != Status::rejected)
        return false;
    std::optional<NtlmInfo> const& info = m.recognition.ntlm;
    return info && info->challenge && !sasl::ntlm::carries_target_info(*info->challenge);
}

class AuthRules : RuleSet {
public:
    AuthRules(Report const& report, std::vector<Finding>& out) : RuleSet(report, out) {}
    void run() {
        auth_rules();
        ntlm_rules();
        refusal_rules();
        credential_rules();
        server_problem_rules();
    }

private:
    void auth_rules();
    void ntlm_rules();
    void refusal_rules();
    void credential_rules();
    void server_problem_rules();

    /// Rows whose refusal refusal_rules() named: credential_rules() does not call them a
    /// wrong password.
    std::set<std::string> classified_;
};

/// Provider refusals and refused tokens (refusal_rules.hpp), one finding per kind of refusal
/// with the mechanisms that got it.
void AuthRules::refusal_rules() {
    if (!r_.credentials_given)
        return;
    struct Group {
        Refusal refusal;
        std::vector<std::string> names;
        std::vector<std::string> evidence;
    };
    std::vector<Group> groups;
    bool any_accepted = false;
    for (MechanismRow const& m : r_.rows) {
        any_accepted = any_accepted || (m.authentication.status == Status::accepted &&
                                        !sasl::needs_no_secret(m.name));
        std::optional<Refusal> refusal = classify_refusal(m);
        if (!refusal)
            continue;
        classified_.insert(m.name);
        auto it = std::find_if(groups.begin(), groups.end(), [&](Group const& g) {
            return g.refusal.id == refusal->id && g.refusal.title == refusal->title;
        });
        if (it == groups.end()) {
            groups.push_back({std::move(*refusal), {}, {}});
            it = std::prev(groups.end());
        }
        it->names.push_back(m.name);
        it->evidence.push_back("AUTH " + m.name + ": " + m.authentication.reply->wire());
    }
    for (Group& g : groups) {
        std::string title = g.refusal.title;
        if (g.refusal.id != "oauth.token_refused")
            title += " (" + list_words(g.names) + ")";
        else if (g.names.size() > 1)
            title = "The server refused the OAuth token with " + list_words(g.names);
        add(g.refusal.id, any_accepted ? Severity::warning : g.refusal.severity, title,
            g.refusal.detail, g.evidence);
    }
}

void AuthRules::auth_rules() {
    ServerFacts const& s = r_.server;
    smtp::Capabilities const* final_caps = s.final_capabilities();
    if (!r_.session_established || final_caps == nullptr)
        return;
    bool const via_starttls = r_.tls_used == TlsMode::starttls;
    std::vector<std::string> recognised;
    std::vector<std::string> refused_advertised;
    for (MechanismRow const& m : r_.rows) {
        if (m.recognition.status == Status::recognised || m.recognition.status == Status::accepted)
            recognised.push_back(m.name);
        bool const advertised = s.tls ? m.advertised_after_tls : m.advertised_before_tls;
        if (advertised && m.recognition.status != Status::recognised &&
            m.recognition.status != Status::accepted && m.recognition.status != Status::skipped &&
            m.recognition.status != Status::pending)
            refused_advertised.push_back(m.name);
    }
    bool const auth_before = s.before_tls && !s.before_tls->auth.empty();
    bool const auth_after = via_starttls && s.after_tls && !s.after_tls->auth.empty();

    MechanismRow const* plain = row("PLAIN");
    if (!recognised.empty() && plain != nullptr && plain->recognition.reply &&
        plain->recognition.status != Status::recognised &&
        plain->recognition.status != Status::accepted) {
        std::string const code = plain->recognition.reply->status();
        std::string title = "Only " + list_words(recognised) +
                            (recognised.size() == 1 ? " is" : " are") + " accepted";
        if (via_starttls && auth_after && !auth_before)
            title += ", and only after STARTTLS";
        title += "; clients that send AUTH PLAIN get " + code;
        add("auth.mechanism_mismatch", Severity::warning, title,
            "Clients that send AUTH PLAIN without reading the server's list fail: Go net/smtp "
            "PlainAuth and Ruby net-smtp's default (:plain) among them. Configure the client to "
            "use " +
                list_words(recognised) + " (see \"Client libraries\" below).",
            {"AUTH PLAIN: " + plain->recognition.reply->wire()});
    }
    if (via_starttls && auth_after && !auth_before) {
        std::vector<std::string> evidence{"before TLS: " + join(s.before_tls->keywords(), " "),
                                          "after TLS: AUTH " + join(s.after_tls->auth, " ")};
        std::string detail =
            "AUTH appears only in the EHLO reply after STARTTLS (RFC 4954 §3 allows the list to "
            "change). Clients that authenticate without STARTTLS find no AUTH at all: Python "
            "smtplib without starttls() ('SMTP AUTH extension not supported by server'), .NET "
            "with EnableSsl=false, Jakarta Mail without mail.smtp.starttls.enable, libcurl "
            "without CURLOPT_USE_SSL.";
        if (s.auth_before_tls_reply) {
            evidence.push_back("AUTH " + s.auth_before_tls_mechanism.value_or("") +
                               " before STARTTLS: " + s.auth_before_tls_reply->wire());
            detail += " Sent before STARTTLS, AUTH gets " + s.auth_before_tls_reply->status() + ".";
        }
        add("auth.only_after_starttls", Severity::warning, "AUTH is offered only after STARTTLS",
            detail, evidence);
    }
    if (via_starttls && auth_before && s.auth_before_tls_reply &&
        s.auth_before_tls_reply->code != 334 && s.auth_before_tls_reply->first_digit() == 5)
        add("auth.advertised_before_tls_but_refused", Severity::warning,
            "AUTH is advertised before TLS but refused there",
            "The pre-TLS EHLO lists AUTH, yet AUTH " + *s.auth_before_tls_mechanism +
                " before STARTTLS gets " + s.auth_before_tls_reply->status() + ".",
            {"AUTH before STARTTLS: " + s.auth_before_tls_reply->wire()});

    if (!refused_advertised.empty()) {
        std::vector<std::string> evidence;
        for (std::string const& name : refused_advertised)
            if (MechanismRow const* m = row(name); m != nullptr && m->recognition.reply)
                evidence.push_back("AUTH " + name + ": " + m->recognition.reply->wire());
        add("auth.advertised_but_refused", Severity::error,
            "Advertised but not accepted: " + list_words(refused_advertised),
            "The EHLO reply lists these mechanisms but the server refuses them. Clients pick "
            "mechanisms from that list, so they will fail with the replies shown.",
            evidence);
    }
    std::vector<std::string> hidden;
    for (MechanismRow const& m : r_.rows) {
        bool const advertised = s.tls ? m.advertised_after_tls : m.advertised_before_tls;
        if (!advertised && m.recognition.status == Status::recognised)
            hidden.push_back(m.name);
    }
    if (!hidden.empty())
        add("auth.recognised_not_advertised", Severity::info,
            "Recognised although not advertised: " + list_words(hidden),
            "The server answers 334 to these mechanisms without listing them. Clients only "
            "use advertised mechanisms, so this matters only to clients forced to one.");
    if (recognised.empty() && !final_caps->from_helo)
        add("auth.none", r_.credentials_given ? Severity::error : Severity::warning,
            "No AUTH mechanism was accepted",
            final_caps->auth.empty()
                ? "The server advertises no AUTH in the state probed and refused every mechanism."
                : "The server advertises AUTH but refused every mechanism tried.");
    if (!s.tls && !final_caps->auth.empty() &&
        std::any_of(r_.rows.begin(), r_.rows.end(), [](MechanismRow const& m) {
            return (m.name == "PLAIN" || m.name == "LOGIN") &&
                   m.recognition.status == Status::recognised;
        }))
        add("auth.plaintext", Severity::warning, "Passwords would travel unencrypted",
            "The server accepts PLAIN or LOGIN on a connection without TLS (RFC 4954 §4 requires "
            "a configuration that refuses them there).");
    if (MechanismRow const* anon = row("ANONYMOUS");
        anon != nullptr && anon->authentication.status == Status::accepted)
        add("auth.anonymous_login", Severity::warning, "ANONYMOUS logs in without credentials",
            "AUTH ANONYMOUS with only a trace string (RFC 4505) was accepted: anyone who can "
            "connect is authenticated here. A submission server that does this may relay for "
            "anyone.",
            anon->authentication.reply
                ? std::vector<std::string>{"AUTH ANONYMOUS: " + anon->authentication.reply->wire()}
                : std::vector<std::string>{});
    else if (anon != nullptr && anon->recognition.status == Status::recognised)
        add("auth.anonymous", Severity::warning, "ANONYMOUS is accepted",
            "A submission server that accepts ANONYMOUS may relay for anyone (RFC 4505).");
    if (s.final_capabilities()->auth_equals_form && !s.final_capabilities()->auth_space_form)
        add("auth.legacy_equals_only", Severity::warning,
            "AUTH is advertised only in the old AUTH= form",
            "PHPMailer, libcurl, Ruby net-smtp, lettre and Go read only \"AUTH \" lines and see "
            "no mechanisms at all.");
    if (s.final_capabilities()->auth_lowercase)
        add("auth.lowercase_names", Severity::warning,
            "Mechanism names are advertised in lower case",
            "Python smtplib, PHPMailer, lettre, MailKit and Go compare names case-sensitively "
            "and find no match.");
}

// What the port speaks, when it is not what the TLS mode said (probes/contact.hpp).
void AuthRules::ntlm_rules() {
    MechanismRow const* m = row("NTLM");
    if (m == nullptr || !m->recognition.ntlm)
        return;
    NtlmInfo const& info = *m->recognition.ntlm;
    if (info.outcome == NtlmInfo::Outcome::malformed) {
        add("auth.ntlm_challenge_malformed", Severity::warning,
            "The server's NTLM CHALLENGE message is malformed",
            "The reply to an NTLM NEGOTIATE message could not be decoded (" + info.error +
                "); NTLM clients will fail against it.",
            info.reply ? std::vector<std::string>{info.reply->wire()} : std::vector<std::string>{});
        return;
    }
    if (!info.challenge)
        return;
    sasl::ntlm::Challenge const& c = *info.challenge;
    std::vector<std::string> named;
    auto name = [&](std::string_view what, std::optional<std::string> const& value) {
        if (value && !value->empty())
            named.push_back(std::string(what) + " " + escape_controls(*value));
    };
    if (c.target_info) {
        name("computer", c.target_info->nb_computer_name);
        name("DNS name", c.target_info->dns_computer_name);
        name("domain", c.target_info->nb_domain_name);
        name("DNS domain", c.target_info->dns_domain_name);
        name("forest", c.target_info->dns_tree_name);
    }
    if (named.empty())
        name("target", c.target_name);
    if (c.version)
        named.push_back("Windows version " + sasl::ntlm::to_string(*c.version));
    if (named.empty())
        return;
    add("auth.ntlm_information", Severity::info,
        "NTLM tells anyone who asks the server's internal names",
        "Before any credential, the CHALLENGE that answers an NTLM NEGOTIATE message gives the " +
            list_words(named) +
            ". This is what nmap's smtp-ntlm-info reads: a map of the internal Windows domain "
            "for anyone who can connect. If no client needs NTLM here, do not offer it (on "
            "Exchange: take Integrated out of the receive connector's AuthMechanism).");
}

void AuthRules::credential_rules() {
    // A client certificate alone is a credential too (EXTERNAL).
    if (!r_.credentials_given && !r_.client_certificate_given)
        return;
    std::vector<std::string> accepted, rejected, skipped, unfinished;
    std::vector<std::string> evidence, unfinished_evidence;
    std::string skip_reason;
    for (MechanismRow const& m : r_.rows) {
        Authentication const& a = m.authentication;
        if (sasl::needs_no_secret(m.name))
            continue; // ANONYMOUS tests no credential (auth.anonymous_login)
        if (a.status == Status::accepted)
            accepted.push_back(m.name);
        else if (classified_.contains(m.name))
            continue; // named by refusal_rules()
        else if (a.status == Status::rejected) {
            rejected.push_back(m.name);
            if (a.reply)
                evidence.push_back("AUTH " + m.name + ": " + a.reply->wire());
            else // GSSAPI: the KDC refused them before the server saw any
                evidence.push_back("AUTH " + m.name + ": " + a.reason);
        } else if (a.status == Status::skipped && m.implemented &&
                   (m.recognition.status == Status::recognised) && a.withheld != Withheld::no) {
            skipped.push_back(m.name);
            skip_reason = a.reason;
        } else if ((a.status == Status::error || a.status == Status::refused ||
                    a.status == Status::temporary_failure) &&
                   a.problem == sasl::ClientStep::Problem::none) {
            // Tried, but neither accepted nor refused: say why (the server's faults that
            // cancel an exchange have findings of their own, server_problem_rules()).
            unfinished.push_back(m.name);
            unfinished_evidence.push_back(m.name + ": " + a.reason);
        }
    }
    if (!accepted.empty())
        add("auth.credentials_accepted", Severity::info,
            "The credentials work with " + list_words(accepted), "");
    if (!rejected.empty())
        add("auth.credentials_rejected", accepted.empty() ? Severity::error : Severity::warning,
            "The credentials were rejected with " + list_words(rejected),
            accepted.empty() && rejected == std::vector<std::string>{"EXTERNAL"}
                ? "EXTERNAL is recognised, so the server did not take the client certificate: "
                  "not from a CA it trusts, not mapped to an account, or the --authzid is not "
                  "that account's."
            : accepted.empty()
                ? "The mechanism is recognised, so the problem is the user name or password (or "
                  "the account's permission to submit mail)."
                : "Some mechanisms accept the credentials and others do not: the server's "
                  "back ends disagree.",
            evidence);
    if (!unfinished.empty())
        add("auth.credentials_not_tried", Severity::warning,
            "The credentials could not be tried with " + list_words(unfinished),
            "The exchange ended before the server accepted or refused them; the evidence "
            "says why for each mechanism.",
            unfinished_evidence);
    if (!skipped.empty())
        add("auth.credentials_not_sent", Severity::error, "Credentials were not sent",
            skip_reason + ". Fix the TLS problem reported above (--ca-file trusts a private "
                          "CA), or give --allow-insecure-auth to send them anyway (the report "
                          "will say so).");
    if (r_.credentials_sent_insecurely)
        add("auth.credentials_sent_insecurely", Severity::warning,
            "Credentials were sent over a connection that was not verified TLS",
            "--allow-insecure-auth was given. Treat the password as exposed if the network is "
            "not trusted.");
}

void AuthRules::server_problem_rules() {
    std::vector<std::string> mismatched, ntlm_v1;
    std::vector<std::string> evidence;
    for (MechanismRow const& m : r_.rows) {
        Authentication const& a = m.authentication;
        if (a.problem == sasl::ClientStep::Problem::server_proof_mismatch)
            mismatched.push_back(m.name);
        else if (refused_without_target_info(m))
            ntlm_v1.push_back(m.name);
        else
            continue;
        evidence.push_back(m.name + ": " +
                           (a.reason.empty() ? code_or_status(a.reply, a.status) : a.reason));
    }
    if (!mismatched.empty())
        add("auth.server_proof_mismatch", Severity::error,
            "The server's proof of the password is wrong with " + list_words(mismatched),
            "These mechanisms make the server prove that it knows the password too (DIGEST-MD5 "
            "rspauth, RFC 2831 §2.1.3; SCRAM v=, RFC 5802 §9). The proof did not match, so "
            "smtpprobe cancelled the exchange: something between here and the server that "
            "relays the exchange without the password (a man in the middle), or a server whose "
            "back end computes the digest differently. Clients that check the proof (curl, "
            "GNU SASL, Cyrus SASL) fail the same way.",
            evidence);
    if (!ntlm_v1.empty())
        add("auth.ntlm_v1_only", Severity::warning,
            "The server refused NTLMv2 and its CHALLENGE carries no TargetInfo: it may accept "
            "only NTLMv1 or LM, which smtpprobe does not send",
            "Windows servers since Windows 2000 put TargetInfo in their CHALLENGE (MS-NLMP "
            "3.3.2); this one has none. smtpprobe sent an NTLMv2 response all the same (with an "
            "empty ServerName: Cyrus SASL's ntlm plugin, for one, sends no TargetInfo and checks "
            "NTLMv2) and the server refused it. Either the password is wrong, or the server is "
            "set up for NTLMv1 or LM, whose responses can be cracked offline from a captured "
            "exchange. Allow NTLMv2 (on Windows: \"Network security: LAN Manager authentication "
            "level\" = \"Send NTLMv2 response only. Refuse LM & NTLM\"), or offer another "
            "mechanism over TLS.",
            evidence);
}

} // namespace

void auth_findings(Report const& report, std::vector<Finding>& out) {
    AuthRules(report, out).run();
}

} // namespace smtpprobe::diagnose
