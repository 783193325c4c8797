<?php
// PHPMailer client of the real-client suite (tests/clients/run_clients.py), with Debian's
// libphp-phpmailer.
//
//   php php_client.php ATTEMPTS.json
//
// For each attempt, one JSON line on standard output. Application code: isSMTP(), SMTPAuth,
// SMTPSecure 'tls' (STARTTLS) when the server is one that offers it, 'ssl' for implicit TLS,
// nothing otherwise (then SMTPAutoTLS, on by default, still uses STARTTLS when advertised);
// exceptions on. smtpConnect() first (connect, EHLO, STARTTLS, AUTH), then send() for
// MAIL/RCPT/DATA on the same connection, so the two failures stay apart. The "xoauth2"
// variant sets AuthType 'XOAUTH2' and an OAuthTokenProvider of its own (PHPMailer 6.6's
// interface; no league/oauth2-client) that returns the attempt's token; Username and Password
// stay empty, as in PHPMailer's XOAUTH2 example.
require '/usr/share/php/libphp-phpmailer/autoload.php';

use PHPMailer\PHPMailer\OAuthTokenProvider;
use PHPMailer\PHPMailer\PHPMailer;

class StaticToken implements OAuthTokenProvider
{
    private $user;
    private $token;

    public function __construct(string $user, string $token)
    {
        $this->user = $user;
        $this->token = $token;
    }

    public function getOauth64()
    {
        return base64_encode("user={$this->user}\001auth=Bearer {$this->token}\001\001");
    }
}

function run_attempt(array $a): array
{
    $res = ['id' => $a['id'], 'failed_step' => null, 'error' => '', 'auth_ok' => false];
    $mail = new PHPMailer(true);
    $mail->isSMTP();
    $mail->Host = $a['connect'];
    $mail->Port = $a['port'];
    $mail->Helo = $a['ehlo'];
    $mail->SMTPAuth = true;
    if ($a['variant'] === 'xoauth2') {
        $mail->AuthType = 'XOAUTH2';
        $mail->setOAuth(new StaticToken($a['user'], $a['token']));
    } else {
        $mail->Username = $a['user'];
        $mail->Password = $a['password'];
    }
    $mail->Timeout = 20;
    $mail->SMTPKeepAlive = true;
    if ($a['tls'] === 'starttls') {
        $mail->SMTPSecure = PHPMailer::ENCRYPTION_STARTTLS;
    } elseif ($a['tls'] === 'implicit') {
        $mail->SMTPSecure = PHPMailer::ENCRYPTION_SMTPS;
    }
    $mail->SMTPOptions = ['ssl' => [
        'peer_name' => $a['name'],
        'cafile' => $a['ca'],
        'verify_peer' => true,
        'verify_peer_name' => true,
    ]];
    $step = 'auth';
    try {
        $mail->smtpConnect($mail->SMTPOptions);
        $res['auth_ok'] = true;
        $step = 'mail';
        $mail->setFrom($a['from']);
        $mail->addAddress($a['to']);
        $mail->Subject = 'smtpprobe client test';
        $mail->Body = 'Test.';
        $mail->send();
        $mail->smtpClose();
    } catch (\Throwable $e) {
        $res['failed_step'] = $step;
        $detail = $mail->getSMTPInstance()->getError();
        $res['error'] = get_class($e) . ': ' . $e->getMessage();
        if (!empty($detail['error']) && strpos($res['error'], $detail['error']) === false) {
            $res['error'] .= ' (SMTP::getError: ' . $detail['error'] .
                (empty($detail['detail']) ? '' : ' ' . $detail['detail']) . ')';
        }
        if ($step === 'mail') {
            $text = $e->getMessage();
            if (stripos($text, 'recipient') !== false) {
                $res['failed_step'] = 'rcpt';
            } elseif (stripos($text, 'data not accepted') !== false) {
                $res['failed_step'] = 'data';
            }
        }
    }
    return $res;
}

$attempts = json_decode(file_get_contents($argv[1]), true);
foreach ($attempts as $a) {
    echo json_encode(run_attempt($a), JSON_UNESCAPED_SLASHES), "\n";
}
