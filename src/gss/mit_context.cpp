#include "gss/mit_context.hpp"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>

#include <array>
#include <string>

namespace smtpprobe::gss {
namespace {

using sasl::GssFailure;
using sasl::GssResult;

/// The text of one status code (gss_display_status, every message of it).
std::string status_text(OM_uint32 code, int type, gss_OID mechanism) {
    std::string out;
    OM_uint32 context = 0;
    do {
        OM_uint32 minor = 0;
        gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
        OM_uint32 const major = gss_display_status(&minor, code, type, mechanism, &context, &text);
        if (GSS_ERROR(major))
            break;
        if (!out.empty())
            out += "; ";
        out.append(static_cast<char const*>(text.value), text.length);
        gss_release_buffer(&minor, &text);
    } while (context != 0);
    return out;
}

/// "MAJOR TEXT: MINOR TEXT", e.g. "Unspecified GSS failure.  Minor code may provide more
/// information: Server not found in Kerberos database".
std::string describe(OM_uint32 major, OM_uint32 minor) {
    std::string out = status_text(major, GSS_C_GSS_CODE, GSS_C_NO_OID);
    if (minor != 0) {
        std::string const detail = status_text(minor, GSS_C_MECH_CODE, gss_mech_krb5);
        if (!detail.empty())
            out += (out.empty() ? "" : ": ") + detail;
    }
    return out.empty() ? "GSS-API major status " + std::to_string(major) : out;
}

/// The minor codes with which the KDC refuses the user's own credentials: the row says
/// "credentials refused", not "cannot try".
bool refuses_credentials(OM_uint32 minor) {
    constexpr std::array<krb5_error_code, 7> codes{
        KRB5KDC_ERR_PREAUTH_FAILED, KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN, KRB5KRB_AP_ERR_BAD_INTEGRITY,
        KRB5KDC_ERR_KEY_EXP,        KRB5KDC_ERR_CLIENT_REVOKED,      KRB5KDC_ERR_NAME_EXP,
        KRB5_PREAUTH_FAILED,
    };
    for (krb5_error_code code : codes)
        if (minor == static_cast<OM_uint32>(code))
            return true;
    return false;
}

GssResult failed(GssFailure failure, OM_uint32 major, OM_uint32 minor) {
    GssResult r;
    r.failure = failure;
    r.error = describe(major, minor);
    return r;
}

gss_buffer_desc buffer_of(std::string_view bytes) {
    gss_buffer_desc b;
    b.length = bytes.size();
    b.value = const_cast<char*>(bytes.data());
    return b;
}

/// Moves a buffer the library allocated into a string, and releases it.
std::string take(gss_buffer_desc& buffer) {
    std::string out(static_cast<char const*>(buffer.value), buffer.length);
    OM_uint32 minor = 0;
    gss_release_buffer(&minor, &buffer);
    return out;
}

class MitContext final : public sasl::SecurityContext {
public:
    explicit MitContext(sasl::GssRequest request) : request_(std::move(request)) {}
    ~MitContext() override {
        OM_uint32 minor = 0;
        if (context_ != GSS_C_NO_CONTEXT)
            gss_delete_sec_context(&minor, &context_, GSS_C_NO_BUFFER);
        if (target_ != GSS_C_NO_NAME)
            gss_release_name(&minor, &target_);
        // Releasing the credential drops the in-memory cache it was got into.
        if (credential_ != GSS_C_NO_CREDENTIAL)
            gss_release_cred(&minor, &credential_);
        request_.password.assign(request_.password.size(), '\0');
    }
    MitContext(MitContext const&) = delete;
    MitContext& operator=(MitContext const&) = delete;

    GssResult initiate(std::string_view server_token) override {
        if (target_ == GSS_C_NO_NAME) {
            if (GssResult r = prepare(); r.failure != GssFailure::none)
                return r;
        }
        OM_uint32 minor = 0;
        gss_buffer_desc input = buffer_of(server_token);
        gss_buffer_desc output = GSS_C_EMPTY_BUFFER;
        // RFC 4752 §3.1: mutual authentication; integrity for the security-layer messages.
        OM_uint32 const flags = GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG;
        OM_uint32 const major = gss_init_sec_context(
            &minor, credential_, &context_, target_, gss_mech_krb5, flags, 0,
            GSS_C_NO_CHANNEL_BINDINGS, server_token.empty() ? GSS_C_NO_BUFFER : &input, nullptr,
            &output, nullptr, nullptr);
        GssResult r;
        r.token = take(output);
        if (GSS_ERROR(major)) {
            r.token.clear();
            // MIT may get the password's ticket only here, when the context needs it.
            GssFailure const failure =
                !server_token.empty() ? GssFailure::server_token : credential_failure(minor);
            return failed(failure, major, minor);
        }
        r.complete = major == GSS_S_COMPLETE;
        return r;
    }

    GssResult wrap(std::string_view message) override {
        OM_uint32 minor = 0;
        gss_buffer_desc input = buffer_of(message);
        gss_buffer_desc output = GSS_C_EMPTY_BUFFER;
        OM_uint32 const major =
            gss_wrap(&minor, context_, 0, GSS_C_QOP_DEFAULT, &input, nullptr, &output);
        if (GSS_ERROR(major))
            return failed(GssFailure::server_token, major, minor);
        GssResult r;
        r.token = take(output);
        return r;
    }

    GssResult unwrap(std::string_view message) override {
        OM_uint32 minor = 0;
        gss_buffer_desc input = buffer_of(message);
        gss_buffer_desc output = GSS_C_EMPTY_BUFFER;
        OM_uint32 const major = gss_unwrap(&minor, context_, &input, &output, nullptr, nullptr);
        if (GSS_ERROR(major))
            return failed(GssFailure::server_token, major, minor);
        GssResult r;
        r.token = take(output);
        return r;
    }

private:
    /// Imports the service name and, with a password, gets the user's ticket.
    GssResult prepare() {
        OM_uint32 minor = 0;
        gss_buffer_desc service = buffer_of(request_.service_name);
        OM_uint32 major = gss_import_name(&minor, &service, GSS_C_NT_HOSTBASED_SERVICE, &target_);
        if (GSS_ERROR(major))
            return failed(GssFailure::cannot_try, major, minor);
        if (request_.password.empty())
            return {}; // the caller's ticket cache (GSS_C_NO_CREDENTIAL)
        gss_name_t user = GSS_C_NO_NAME;
        gss_buffer_desc user_text = buffer_of(request_.user);
        major = gss_import_name(&minor, &user_text, GSS_C_NT_USER_NAME, &user);
        if (GSS_ERROR(major))
            return failed(GssFailure::cannot_try, major, minor);
        gss_OID_desc krb5 = *gss_mech_krb5;
        gss_OID_set_desc mechanisms{1, &krb5};
        gss_buffer_desc password = buffer_of(request_.password);
        // MIT gets the initial ticket into a new MEMORY: cache when a password is given, so
        // the caller's cache (KRB5CCNAME) is neither read nor written.
        major =
            gss_acquire_cred_with_password(&minor, user, &password, GSS_C_INDEFINITE, &mechanisms,
                                           GSS_C_INITIATE, &credential_, nullptr, nullptr);
        OM_uint32 ignored = 0;
        gss_release_name(&ignored, &user);
        if (GSS_ERROR(major))
            return failed(credential_failure(minor), major, minor);
        return {};
    }

    GssFailure credential_failure(OM_uint32 minor) const {
        return !request_.password.empty() && refuses_credentials(minor)
                   ? GssFailure::credentials_refused
                   : GssFailure::cannot_try;
    }

    sasl::GssRequest request_;
    gss_name_t target_ = GSS_C_NO_NAME;
    gss_cred_id_t credential_ = GSS_C_NO_CREDENTIAL;
    gss_ctx_id_t context_ = GSS_C_NO_CONTEXT;
};

} // namespace

std::unique_ptr<sasl::SecurityContext> make_mit_context(sasl::GssRequest const& request) {
    return std::make_unique<MitContext>(request);
}

} // namespace smtpprobe::gss
