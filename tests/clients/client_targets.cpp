// The emulator side of the real-client suite (tests/clients/run_clients.py): every profile
// given on the command line runs in this one process on an ephemeral loopback port, so the
// suite can read what each client sent on the wire (Server::received()).
//
//   client_targets CA_DIR PROFILE.json...
//
// Prints one JSON line per profile: {"name", "port", "tls", "hostname", "ca", "user",
// "password", "token_user", "token"} (the profile's first password account and first token
// account, empty when it has none; CA_DIR/<name>.pem holds its CA), then "ready". Then reads
// commands on standard input, one per line:
//   received NAME   -> one JSON line: the array of lines the profile's server has received
//                      so far ("cN: LINE"). Credentials are in it: the reader must not store it.
//   quit (or EOF)   -> stops every server and exits 0.
// Exit status 2 for bad arguments or a profile that does not load.

#include "emulator/profile.hpp"
#include "emulator/server.hpp"

#include <nlohmann/json.hpp>

#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>

namespace {

using smtpprobe::emulator::Profile;
using smtpprobe::emulator::Server;

nlohmann::json describe(Server const& server, std::filesystem::path const& ca) {
    Profile const& profile = server.profile();
    nlohmann::json out{{"name", profile.name},
                       {"port", server.port()},
                       {"tls", std::string(smtpprobe::emulator::to_string(profile.tls))},
                       {"hostname", profile.hostname},
                       {"ca", ca.string()},
                       {"user", ""},
                       {"password", ""},
                       {"token_user", ""},
                       {"token", ""}};
    for (auto const& account : profile.auth.accounts) {
        if (!account.password.empty() && out["password"] == "") {
            out["user"] = account.user;
            out["password"] = account.password;
        }
        if (!account.token.empty() && out["token"] == "") {
            out["token_user"] = account.user;
            out["token"] = account.token;
        }
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: client_targets CA_DIR PROFILE.json...\n";
        return 2;
    }
    std::filesystem::path const ca_dir = argv[1];
    std::map<std::string, std::unique_ptr<Server>> servers;
    try {
        std::filesystem::create_directories(ca_dir);
        for (int i = 2; i < argc; ++i) {
            Profile profile = smtpprobe::emulator::load_profile(argv[i]);
            std::string const name = profile.name;
            auto server =
                std::make_unique<Server>(std::move(profile), smtpprobe::emulator::ServerOptions{});
            std::filesystem::path const ca = ca_dir / (name + ".pem");
            std::ofstream(ca) << server->ca_pem();
            server->start();
            std::cout << describe(*server, ca).dump() << "\n";
            servers.emplace(name, std::move(server));
        }
    } catch (std::exception const& e) {
        std::cerr << "client_targets: " << e.what() << "\n";
        return 2;
    }
    std::cout << "ready" << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line == "quit") {
            break;
        }
        if (line.starts_with("received ")) {
            auto const it = servers.find(line.substr(9));
            nlohmann::json lines = nlohmann::json::array();
            if (it != servers.end()) {
                for (std::string const& received : it->second->received()) {
                    lines.push_back(received);
                }
            }
            std::cout << lines.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                      << std::endl;
        } else {
            std::cout << "null" << std::endl;
        }
    }
    for (auto& [name, server] : servers) {
        server->stop();
    }
    return 0;
}
