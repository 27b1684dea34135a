namespace Granary.Gateway.Security;

/// <summary>
/// Who may call the gateway (<c>Granary:Gateway:Security</c>, or <c>security:</c> in granary.yaml): every route but
/// <c>/health</c> (and <c>/metrics</c> unless <see cref="MetricsRequireAuthentication"/>) needs
/// <c>Authorization: Bearer &lt;API key or JWT&gt;</c>, and every action the repository's permissions to grant it.
/// </summary>
public sealed class GatewaySecurityOptions
{
    /// <summary>
    /// Authentication and permission checks on every route. Default true; false (granary.yaml <c>security: {authorization: off}</c>)
    /// lets anyone who reaches the ports do anything, for a local embedded setup only.
    /// </summary>
    public bool Authorization { get; set; } = true;

    /// <summary>Whether <c>/metrics</c> needs credentials too (no permission is checked on it). Default false: Prometheus scrapes it as it is.</summary>
    public bool MetricsRequireAuthentication { get; set; }

    /// <summary>JWT bearer tokens; off unless a signing key is given.</summary>
    public GatewayJwtOptions Jwt { get; set; } = new();
}

/// <summary>How JWT bearer tokens are checked: signature, issuer, audience and expiry, then the principal and roles from claims.</summary>
public sealed class GatewayJwtOptions
{
    /// <summary>The <c>iss</c> every token must carry. Required when JWTs are on.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> every token must carry. Required when JWTs are on.</summary>
    public string? Audience { get; set; }

    /// <summary>HS256 shared secret (at least 32 bytes of UTF-8); prefer an environment variable over a file for it.</summary>
    public string? HmacSecret { get; set; }

    /// <summary>PEM files of the issuer's RSA or EC public keys (RS256/ES256 and kin).</summary>
    public List<string> PublicKeyPaths { get; set; } = [];

    /// <summary>The claim holding the roles (a string or an array of strings). Default <c>roles</c>; e.g. <c>groups</c>.</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim naming the principal. Default <c>sub</c>.</summary>
    public string NameClaim { get; set; } = "sub";

    /// <summary>Tolerated clock difference for expiry and not-before. Default 30 s.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether JWTs are accepted (a key is configured).</summary>
    public bool Enabled => !string.IsNullOrEmpty(HmacSecret) || PublicKeyPaths.Count > 0;
}
