#include "emulator/object_reader.hpp"

#include "emulator/reply_text.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

namespace smtpprobe::emulator {

using nlohmann::json;

void ProfileSource::fail(std::string const& path, std::string const& message) const {
    std::string text = source_ + ": ";
    if (!path.empty()) {
        text += path + ": ";
    }
    throw std::runtime_error(text + message);
}

std::string join_path(std::string const& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

ObjectReader::ObjectReader(ProfileSource const& source, json const& object, std::string path)
    : context_(source), object_(object), path_(std::move(path)) {
    if (!object_.is_object()) {
        context_.fail(path_, "expected an object");
    }
}

nlohmann::json const* ObjectReader::find(std::string_view key) {
    used_.emplace_back(key);
    json::const_iterator it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
}

std::optional<std::string> ObjectReader::string(std::string_view key) {
    json const* value = find(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_string()) {
        context_.fail(join_path(path_, key), "expected a string");
    }
    return value->get<std::string>();
}

std::optional<bool> ObjectReader::boolean(std::string_view key) {
    json const* value = find(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_boolean()) {
        context_.fail(join_path(path_, key), "expected true or false");
    }
    return value->get<bool>();
}

std::optional<long long> ObjectReader::integer(std::string_view key, long long min, long long max) {
    json const* value = find(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    return checked_integer(*value, join_path(path_, key), min, max);
}

std::optional<std::vector<std::string>> ObjectReader::strings(std::string_view key) {
    json const* value = find(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    return string_array(*value, join_path(path_, key));
}

std::optional<std::string> ObjectReader::reply(std::string_view key, bool allow_empty) {
    json const* value = find(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    return checked_reply(*value, join_path(path_, key), allow_empty);
}

std::string ObjectReader::checked_reply(nlohmann::json const& value, std::string const& path,
                                        bool allow_empty) const {
    std::string text;
    if (value.is_string()) {
        text = value.get<std::string>();
    } else if (value.is_array() && !value.empty()) {
        std::vector<std::string> lines = string_array(value, path);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            text += (i == 0 ? "" : "\n") + lines[i];
        }
    } else {
        context_.fail(path, "expected a reply (a string or a non-empty array of strings)");
    }
    if (allow_empty && text.empty()) {
        return text;
    }
    if (std::string problem = reply_problem(text); !problem.empty()) {
        context_.fail(path, problem + ": \"" + text.substr(0, 80) + "\"");
    }
    return text;
}

std::vector<std::string> ObjectReader::string_array(nlohmann::json const& value,
                                                    std::string const& path) const {
    if (!value.is_array()) {
        context_.fail(path, "expected an array of strings");
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
            context_.fail(path + "[" + std::to_string(i) + "]", "expected a string");
        }
        out.push_back(value[i].get<std::string>());
    }
    return out;
}

long long ObjectReader::checked_integer(nlohmann::json const& value, std::string const& path,
                                        long long min, long long max) const {
    if (!value.is_number_integer()) {
        context_.fail(path, "expected an integer");
    }
    long long number = value.get<long long>();
    if (value.is_number_unsigned() &&
        value.get<unsigned long long>() >
            static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
        number = max + 1;
    }
    if (number < min || number > max) {
        context_.fail(path,
                      "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return number;
}

void ObjectReader::finish() const {
    for (json::const_iterator it = object_.begin(); it != object_.end(); ++it) {
        std::string const& key = it.key();
        if (key.starts_with("_")) {
            continue;
        }
        if (std::find(used_.begin(), used_.end(), key) == used_.end()) {
            context_.fail(join_path(path_, key), "unknown field");
        }
    }
}

} // namespace smtpprobe::emulator
