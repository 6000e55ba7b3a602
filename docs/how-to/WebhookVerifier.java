import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Verifies a Standard Webhooks 1.0 "v1" signature (HMAC-SHA256) of a hazardflow webhook. */
public final class WebhookVerifier {
    private static final long TOLERANCE_SECONDS = 300;
    private final byte[] key;

    public WebhookVerifier(String secret) {
        String b64 = secret.startsWith("whsec_") ? secret.substring(6) : secret;
        this.key = Base64.getDecoder().decode(b64);
    }

    /**
     * @param id        the webhook-id header
     * @param timestamp the webhook-timestamp header (Unix seconds)
     * @param body      the raw request body, exactly as received
     * @param signature the webhook-signature header ("v1,<base64> v1,<base64> ...")
     */
    public boolean verify(String id, String timestamp, byte[] body, String signature, long nowSeconds)
            throws Exception {
        long ts = Long.parseLong(timestamp);
        if (Math.abs(nowSeconds - ts) > TOLERANCE_SECONDS) {
            return false; // too old or from the future: a replay
        }
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
        byte[] expected = Base64.getEncoder().encode(mac.doFinal(body));
        for (String candidate : signature.split(" ")) {
            if (candidate.startsWith("v1,")) {
                byte[] given = candidate.substring(3).getBytes(StandardCharsets.US_ASCII);
                if (MessageDigest.isEqual(expected, given)) { // constant-time comparison
                    return true;
                }
            }
        }
        return false;
    }

    /** java WebhookVerifier SECRET ID TIMESTAMP SIGNATURE < body : prints "valid" or "invalid". */
    public static void main(String[] args) throws Exception {
        byte[] body = System.in.readAllBytes();
        boolean ok = new WebhookVerifier(args[0])
                .verify(args[1], args[2], body, args[3], System.currentTimeMillis() / 1000);
        System.out.println(ok ? "valid" : "invalid");
    }
}
