#pragma once
// Client certificates on disk for the --cert/--key tests: an emulator profile that asks for
// one, and PEM files (certificate, key, the key encrypted with a passphrase) in a temporary
// directory that goes away with the object.

#include "emulator/cert.hpp"
#include "net/openssl_ptr.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace smtpprobe::test {

/// A STARTTLS server that asks for a client certificate and offers PLAIN and EXTERNAL.
inline nlohmann::json client_certificate_profile() {
    return {{"name", "client-certificate"},
            {"hostname", "localhost"},
            {"request_client_certificate", true},
            {"ehlo",
             {{"before_tls", {"PIPELINING", "STARTTLS"}},
              {"after_tls", {"PIPELINING", "AUTH PLAIN EXTERNAL"}}}},
            {"auth",
             {{"mechanisms", {"PLAIN", "EXTERNAL"}},
              {"accounts",
               {{{"user", "alice@example.test"}, {"password", "client-cert-pw-not-real"}}}}}}};
}

/// The passphrase of ClientFiles::encrypted_key (a test secret: the secret scan knows it).
inline constexpr char const* client_key_passphrase = "client-key-passphrase-not-real";

/// A certificate and key (plain and encrypted) in a temporary directory.
class ClientFiles {
public:
    /// pki: a client certificate and key (emulator::Server::client_pki(), or make_pki()).
    explicit ClientFiles(emulator::Pki const& pki) {
        char name[] = "/tmp/smtpprobe-client-cert-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        dir_ = name;
        cert = write("client.pem", pki.cert_pem);
        key = write("client.key", pki.key_pem);
        ca = write("client-ca.pem", pki.ca_pem);
        net::BioPtr in{BIO_new_mem_buf(pki.key_pem.data(), static_cast<int>(pki.key_pem.size()))};
        net::KeyPtr k{PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr)};
        REQUIRE(k);
        net::BioPtr out{BIO_new(BIO_s_mem())};
        std::string const pass = client_key_passphrase;
        REQUIRE(PEM_write_bio_PKCS8PrivateKey(out.get(), k.get(), EVP_aes_256_cbc(), pass.data(),
                                              static_cast<int>(pass.size()), nullptr,
                                              nullptr) == 1);
        char* data = nullptr;
        long size = BIO_get_mem_data(out.get(), &data);
        encrypted_key =
            write("client-encrypted.key", std::string(data, static_cast<std::size_t>(size)));
    }
    ~ClientFiles() { std::filesystem::remove_all(dir_); }
    ClientFiles(ClientFiles const&) = delete;
    ClientFiles& operator=(ClientFiles const&) = delete;

    std::string write(std::string const& file, std::string const& text) const {
        std::string const path = (dir_ / file).string();
        std::ofstream(path) << text;
        return path;
    }

    std::string cert, key, encrypted_key, ca;

private:
    std::filesystem::path dir_;
};

/// A client certificate from a CA no server of the tests trusts.
inline emulator::Pki stranger_pki() {
    return emulator::make_pki(emulator::client_certificate_spec(
        "stranger", "smtpprobe test: a CA nobody trusts (not for production)"));
}

} // namespace smtpprobe::test
