// Jakarta Mail client of the real-client suite (tests/clients/run_clients.py), with Debian's
// libjakarta-mail-java.
//
//   java -Djdk.net.hosts.file=HOSTS -cp jakarta-mail.jar:jakarta-activation.jar:. JakartaClient ATTEMPTS.json
//
// For each attempt, one JSON line on standard output. Application code: mail.smtp.auth=true,
// mail.smtp.starttls.enable and .required when the server is one that offers STARTTLS,
// mail.smtp.ssl.enable for implicit TLS; the test CA through mail.smtp.ssl.socketFactory; the
// server name as mail.smtp.host (HOSTS maps every name to its loopback address, so the
// certificate is checked against the name). Transport.connect() (connect, EHLO, STARTTLS,
// AUTH), then sendMessage() for MAIL/RCPT/DATA. The "xoauth2" variant sets
// mail.smtp.auth.mechanisms=XOAUTH2 and passes the attempt's token as the password.
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;

import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

public class JakartaClient {
    // The attempts file is flat JSON written by run_clients.py: string and number values only.
    static List<java.util.Map<String, String>> parse(String text) {
        List<java.util.Map<String, String>> out = new ArrayList<>();
        Matcher object = Pattern.compile("\\{([^{}]*)\\}").matcher(text);
        Pattern field = Pattern.compile("\"(\\w+)\"\\s*:\\s*(\"((?:[^\"\\\\]|\\\\.)*)\"|(-?\\d+))");
        while (object.find()) {
            java.util.Map<String, String> a = new java.util.HashMap<>();
            Matcher f = field.matcher(object.group(1));
            while (f.find()) {
                String v = f.group(3) != null ? unescape(f.group(3)) : f.group(4);
                a.put(f.group(1), v);
            }
            out.add(a);
        }
        return out;
    }

    static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); ++i) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                if (n == 'u' && i + 4 < s.length()) {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                } else {
                    b.append(n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n);
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    static SSLSocketFactory trusting(String caFile) throws Exception {
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        try (FileInputStream in = new FileInputStream(caFile)) {
            int n = 0;
            for (java.security.cert.Certificate cert :
                 CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca" + n++, (X509Certificate) cert);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context.getSocketFactory();
    }

    static String run(java.util.Map<String, String> a) {
        String failedStep = null;
        String error = "";
        boolean authOk = false;
        String step = "auth";
        Transport transport = null;
        try {
            Properties p = new Properties();
            p.put("mail.smtp.host", a.get("name"));
            p.put("mail.smtp.port", a.get("port"));
            p.put("mail.smtp.auth", "true");
            p.put("mail.smtp.localhost", a.get("ehlo"));
            p.put("mail.smtp.connectiontimeout", "20000");
            p.put("mail.smtp.timeout", "20000");
            p.put("mail.smtp.writetimeout", "20000");
            p.put("mail.smtp.ssl.checkserveridentity", "true");
            p.put("mail.smtp.ssl.socketFactory", trusting(a.get("ca")));
            if ("starttls".equals(a.get("tls"))) {
                p.put("mail.smtp.starttls.enable", "true");
                p.put("mail.smtp.starttls.required", "true");
            } else if ("implicit".equals(a.get("tls"))) {
                p.put("mail.smtp.ssl.enable", "true");
            }
            boolean oauth = "xoauth2".equals(a.get("variant"));
            if (oauth) {
                p.put("mail.smtp.auth.mechanisms", "XOAUTH2");
            }
            Session session = Session.getInstance(p);
            transport = session.getTransport("smtp");
            transport.connect(a.get("user"), oauth ? a.get("token") : a.get("password"));
            authOk = true;
            step = "mail";
            MimeMessage message = new MimeMessage(session);
            message.setFrom(new InternetAddress(a.get("from")));
            message.setRecipient(Message.RecipientType.TO, new InternetAddress(a.get("to")));
            message.setSubject("smtpprobe client test");
            message.setText("Test.");
            message.saveChanges();
            transport.sendMessage(message, message.getAllRecipients());
        } catch (Exception e) {
            failedStep = step;
            if (e instanceof SendFailedException && e.getMessage() != null
                && e.getMessage().contains("Invalid Addresses")) {
                failedStep = "rcpt";
            }
            error = e.getClass().getName() + ": " + String.valueOf(e.getMessage()).trim();
        } finally {
            if (transport != null) {
                try {
                    transport.close();
                } catch (MessagingException ignored) {
                }
            }
        }
        return "{\"id\":" + quote(a.get("id")) + ",\"failed_step\":"
            + (failedStep == null ? "null" : quote(failedStep)) + ",\"error\":" + quote(error)
            + ",\"auth_ok\":" + authOk + "}";
    }

    public static void main(String[] args) throws Exception {
        for (java.util.Map<String, String> a : parse(Files.readString(Path.of(args[0])))) {
            System.out.println(run(a));
            System.out.flush();
        }
    }
}
