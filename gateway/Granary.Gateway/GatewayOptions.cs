using Granary.Repository;
using Microsoft.Extensions.Options;

namespace Granary.Gateway;

/// <summary>
/// Where and how the gateway listens, bound from the configuration section <c>Granary:Gateway</c>
/// (e.g. env <c>Granary__Gateway__RestPort</c>) and checked at start-up by <see cref="GatewayOptionsValidator"/>.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Granary:Gateway";

    /// <summary>Default REST port (<see cref="EndpointsConfig.DefaultRestPort"/>).</summary>
    public const int DefaultRestPort = EndpointsConfig.DefaultRestPort;

    /// <summary>Default gRPC port (<see cref="EndpointsConfig.DefaultGrpcPort"/>).</summary>
    public const int DefaultGrpcPort = EndpointsConfig.DefaultGrpcPort;

    /// <summary>Default web port (<see cref="EndpointsConfig.DefaultWebPort"/>).</summary>
    public const int DefaultWebPort = EndpointsConfig.DefaultWebPort;

    /// <summary>The <see cref="WebPort"/> value that turns the web endpoint off.</summary>
    public const int WebPortOff = EndpointsConfig.WebPortOff;

    /// <summary>
    /// Granary's stricter answers on Feast's REST routes for every request (otherwise per request with the header
    /// <see cref="Rest.FeastCompatibility.StrictHeader"/>): an entity or push column no view reads is 400 instead of
    /// ignored, and errors are Granary's JSON object (<c>module</c>, <c>class</c>, <c>message</c>, <c>hint</c>,
    /// <c>status</c>) instead of Feast's. Default false: the routes answer as Feast's feature server does.
    /// </summary>
    public bool StrictFeastRoutes { get; set; }

    /// <summary>The project requests are served from (Feast requests carry none). Required.</summary>
    public string Project { get; set; } = "";

    /// <summary>The address every endpoint binds: an IP address, <c>localhost</c>, or <c>*</c> for every interface. Default loopback.</summary>
    public string ListenAddress { get; set; } = EndpointsConfig.DefaultHost;

    /// <summary>The HTTP/1.1 + HTTP/2 endpoint: Feast's REST API, <c>/health</c>. Default <see cref="DefaultRestPort"/>; 0 = any free port.</summary>
    public int RestPort { get; set; } = DefaultRestPort;

    /// <summary>The HTTP/2-only endpoint (cleartext gRPC needs prior knowledge of HTTP/2). Default <see cref="DefaultGrpcPort"/>; 0 = any free port.</summary>
    public int GrpcPort { get; set; } = DefaultGrpcPort;

    /// <summary>
    /// A browser-safe HTTP/1.1 + HTTP/2 endpoint serving the same app as the REST port (<c>/ui</c>, <c>/api/catalog</c>,
    /// <c>/dashboard</c>, <c>/metrics</c>, Feast's REST API). Default <see cref="DefaultWebPort"/>; 0 = any free port;
    /// <see cref="WebPortOff"/> (-1) = off.
    /// </summary>
    public int WebPort { get; set; } = DefaultWebPort;

    /// <summary>Listens where <c>endpoints:</c> of granary.yaml says (address and the three ports).</summary>
    public void UseEndpoints(EndpointsConfig endpoints)
    {
        ListenAddress = endpoints.Host;
        RestPort = endpoints.RestPort;
        GrpcPort = endpoints.GrpcPort;
        WebPort = endpoints.WebPort;
    }

    /// <summary>Whether the web endpoint is on.</summary>
    public bool WebEnabled => WebPort != WebPortOff;

    /// <summary>Largest request body accepted, in bytes; larger ones get 413 (REST) or RESOURCE_EXHAUSTED (gRPC). Default 4 MiB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Most entity rows one online read may ask for; more is refused with 413 / RESOURCE_EXHAUSTED. Default 10,000.</summary>
    public int MaxEntityRows { get; set; } = 10_000;

    /// <summary>
    /// How online reads reach the entity grains: <see cref="OnlineReadDesign.Grouped"/> (the default) with one call per
    /// silo, or <see cref="OnlineReadDesign.PerEntity"/> with one call per entity. Both answer the same.
    /// </summary>
    public OnlineReadDesign OnlineRead { get; set; } = OnlineReadDesign.Grouped;

    /// <summary>How long <c>/health</c> and the gRPC health service wait for the cluster and the online store. Default 2 s.</summary>
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Longest a unary gRPC call or a REST request may take, answer sent included: at the limit the call ends
    /// DEADLINE_EXCEEDED, the request 504 (or either is reset, if its answer is still being sent), whatever deadline the
    /// client gave. Streaming calls and the REST routes that run long work (materialize, parity, drift) are bounded by the
    /// client's deadline only. Default 30 s.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>TLS for every endpoint; off unless a certificate is given.</summary>
    public GatewayTlsOptions Tls { get; set; } = new();

    /// <summary>Per-request and per-principal limits (<c>Granary:Gateway:Limits</c>); body size and entity rows are the two settings above.</summary>
    public Limits.GatewayLimitsOptions Limits { get; set; } = new();

    /// <summary>Authentication and permissions; on by default.</summary>
    public Security.GatewaySecurityOptions Security { get; set; } = new();

    /// <summary>How features tagged <c>pii</c> are masked for readers without READ_UNMASKED (<c>Granary:Gateway:Masking</c>, or <c>masking:</c> in granary.yaml).</summary>
    public Security.PiiMaskingOptions Masking { get; set; } = new();
}

/// <summary>How an online read reaches the entity grains (<see cref="GatewayOptions.OnlineRead"/>).</summary>
public enum OnlineReadDesign
{
    /// <summary>Entities grouped by the silo that holds them, one call per silo; cached values read in place.</summary>
    Grouped,
    /// <summary>One grain call per entity.</summary>
    PerEntity,
}

/// <summary>A certificate (PKCS#12 / PFX file) for HTTPS and gRPC over TLS.</summary>
public sealed class GatewayTlsOptions
{
    /// <summary>Path of the .pfx file; TLS is on when set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Its password, if any.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Whether TLS is on.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>Fails start-up with messages that name the key and the fix.</summary>
public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        const string section = "Granary:Gateway";
        if (string.IsNullOrWhiteSpace(options.Project))
            failures.Add($"{section}:Project is empty; set the project to serve (env Granary__Gateway__Project), or give the repository whose granary.yaml names it (env Granary__RepositoryRoot)");
        if (!EndpointsConfig.IsListenAddress(options.ListenAddress))
            failures.Add($"{section}:ListenAddress '{options.ListenAddress}' is not an IP address, 'localhost' or '*'");
        CheckPort(options.RestPort, "RestPort", failures);
        CheckPort(options.GrpcPort, "GrpcPort", failures);
        if (options.RestPort != 0 && options.RestPort == options.GrpcPort)
            failures.Add($"{section}:RestPort and GrpcPort are both {options.RestPort}; gRPC needs its own HTTP/2-only port, pick two ports");
        if (options.WebPort is < GatewayOptions.WebPortOff or > 65535)
            failures.Add($"{section}:WebPort is {options.WebPort}; give a port between 1 and 65535 (0 = any free port, {GatewayOptions.WebPortOff} = off; default {GatewayOptions.DefaultWebPort})");
        else if (options.WebPort > 0 && (options.WebPort == options.RestPort || options.WebPort == options.GrpcPort))
            failures.Add($"{section}:WebPort {options.WebPort} is also the {(options.WebPort == options.RestPort ? "RestPort" : "GrpcPort")}; give the web endpoint its own port (default {GatewayOptions.DefaultWebPort}), or {GatewayOptions.WebPortOff} to turn it off");
        if (options.MaxRequestBodyBytes <= 0)
            failures.Add($"{section}:MaxRequestBodyBytes is {options.MaxRequestBodyBytes}; give a positive size in bytes (default {4 * 1024 * 1024})");
        if (options.MaxEntityRows <= 0)
            failures.Add($"{section}:MaxEntityRows is {options.MaxEntityRows}; give a positive number (default 10000)");
        if (!Enum.IsDefined(options.OnlineRead))
            failures.Add($"{section}:OnlineRead is {options.OnlineRead}; give Grouped (the default) or PerEntity");
        if (options.HealthTimeout <= TimeSpan.Zero)
            failures.Add($"{section}:HealthTimeout is {options.HealthTimeout}; give a positive duration such as 00:00:02");
        if (options.RequestTimeout <= TimeSpan.Zero)
            failures.Add($"{section}:RequestTimeout is {options.RequestTimeout}; give a positive duration such as 00:00:30 (the default)");
        options.Limits.Validate(failures);
        if (options.Tls.Enabled && !File.Exists(options.Tls.CertificatePath))
            failures.Add($"{section}:Tls:CertificatePath '{options.Tls.CertificatePath}' does not exist; give a .pfx file or remove the setting for cleartext");
        var jwt = options.Security.Jwt;
        if (jwt.Enabled)
        {
            if (string.IsNullOrWhiteSpace(jwt.Issuer)) failures.Add($"{section}:Security:Jwt:Issuer is empty; give the issuer (iss) tokens must carry");
            if (string.IsNullOrWhiteSpace(jwt.Audience)) failures.Add($"{section}:Security:Jwt:Audience is empty; give the audience (aud) tokens must carry");
            if (jwt.HmacSecret is { } secret && System.Text.Encoding.UTF8.GetByteCount(secret) < 32)
                failures.Add($"{section}:Security:Jwt:HmacSecret is {System.Text.Encoding.UTF8.GetByteCount(secret)} bytes; HS256 needs at least 32");
            foreach (var path in jwt.PublicKeyPaths.Where(p => !File.Exists(p)))
                failures.Add($"{section}:Security:Jwt:PublicKeyPaths '{path}' does not exist; give PEM files of the issuer's public keys");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        static void CheckPort(int port, string key, List<string> failures)
        {
            if (port is < 0 or > 65535) failures.Add($"{section}:{key} is {port}; give a port between 1 and 65535 (0 = any free port)");
        }
    }
}
