# Ruby net-smtp client of the real-client suite (tests/clients/run_clients.py), with Debian's
# ruby and its bundled net-smtp gem.
#
#   ruby ruby_client.rb ATTEMPTS.json
#
# For each attempt, one JSON line on standard output. Application code: Net::SMTP.new with
# starttls: :always when the server is one that offers STARTTLS, tls: true for implicit TLS,
# otherwise the defaults (starttls: :auto); then start(helo:, user:, secret:) with the default
# authtype (:plain), then send_message. start() does connect, EHLO, STARTTLS and AUTH: a failure
# there is told apart by where it stopped (the suite also reads the wire).
require 'json'
require 'net/smtp'
require 'openssl'

def run_attempt(a)
  res = { id: a['id'], failed_step: nil, error: '', auth_ok: false }
  opts = { tls_hostname: a['name'],
           ssl_context_params: { ca_file: a['ca'], verify_mode: OpenSSL::SSL::VERIFY_PEER } }
  case a['tls']
  when 'starttls' then opts[:starttls] = :always
  when 'implicit' then opts[:tls] = true
  end
  smtp = Net::SMTP.new(a['connect'], a['port'], **opts)
  smtp.open_timeout = 20
  smtp.read_timeout = 20
  step = 'auth'
  begin
    smtp.start(helo: a['ehlo'], user: a['user'], secret: a['password'])
    res[:auth_ok] = true
    step = 'mail'
    smtp.mailfrom(a['from'])
    step = 'rcpt'
    smtp.rcptto(a['to'])
    step = 'data'
    smtp.data("Subject: smtpprobe client test\r\n\r\nTest.\r\n")
    smtp.finish
  rescue StandardError, Timeout::Error => e
    res[:failed_step] = step
    res[:error] = "#{e.class}: #{e.message.strip}"
  ensure
    begin
      smtp.finish if smtp.started?
    rescue StandardError
      nil
    end
  end
  res
end

JSON.parse(File.read(ARGV[0])).each do |a|
  puts JSON.generate(run_attempt(a))
  $stdout.flush
end
