#include "render/json_parts.hpp"

namespace smtpprobe::json_parts {

Json envelope_json(Envelope const& e) {
    Json steps = Json::array();
    std::optional<bool> sender_accepted, rcpt_accepted;
    for (EnvelopeStep const& step : e.steps) {
        bool const ok = step.reply && step.reply->code / 100 == 2;
        if (step.kind == EnvelopeStep::Kind::mail)
            sender_accepted = ok;
        if (step.kind == EnvelopeStep::Kind::rcpt)
            rcpt_accepted = rcpt_accepted.value_or(true) && ok;
        steps.push_back(Json{{"step", std::string(to_string(step.kind))},
                             {"command", std::string(verb(step.kind))},
                             {"argument", step.argument},
                             {"reply", reply_json(step.reply)},
                             {"meaning", step.meaning},
                             {"fix", or_null(step.fix)},
                             {"finding", or_null(step.finding_id)}});
    }
    auto optional_bool = [](std::optional<bool> b) { return b ? Json(*b) : Json(nullptr); };
    return Json{{"mail_from", e.mail_from},
                {"rcpt", e.rcpt},
                {"connection", e.connection},
                {"authenticated", e.authenticated},
                {"mechanism", or_null(e.mechanism)},
                {"steps", steps},
                {"sender_accepted", optional_bool(sender_accepted)},
                {"rcpt_accepted", optional_bool(rcpt_accepted)},
                {"stopped", or_null(e.stopped)},
                {"message_sent", e.message_sent},
                {"queue_id", or_null(e.queue_id)}};
}

} // namespace smtpprobe::json_parts
