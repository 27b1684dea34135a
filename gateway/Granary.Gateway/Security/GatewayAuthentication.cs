using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Granary.Core.Security;
using Granary.Grains.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Granary.Gateway.Security;

/// <summary>
/// Turns <c>Authorization: Bearer &lt;token&gt;</c> (gRPC metadata <c>authorization</c>) into <see cref="HttpContext.User"/>:
/// an API key (<c>gk_...</c>) checked through <see cref="IApiKeyGrain"/>, or a JWT checked against
/// <see cref="GatewayJwtOptions"/>. Requests without valid credentials end here with 401 / UNAUTHENTICATED.
/// </summary>
public sealed partial class GatewayAuthentication(IGrainFactory grains, IOptions<GatewayOptions> options, ILogger<GatewayAuthentication> logger) : IAsyncDisposable
{
    /// <summary>Identity authentication type of a principal from an API key.</summary>
    public const string ApiKeyScheme = "apikey";

    /// <summary>Identity authentication type of a principal from a JWT.</summary>
    public const string JwtScheme = "jwt";

    private const int MaxCachedKeys = 10_000;
    private static readonly TimeSpan PollWait = TimeSpan.FromSeconds(5);

    private readonly GatewaySecurityOptions _security = options.Value.Security;
    private readonly Lazy<TokenValidationParameters?> _jwt = new(() => JwtParameters(options.Value.Security.Jwt));
    private readonly JsonWebTokenHandler _jwtHandler = new() { MapInboundClaims = false };
    // SHA-256 of the key -> who it stands for; emptied whenever any key is created or revoked.
    private readonly ConcurrentDictionary<string, ApiKeyIdentity> _keys = new(StringComparer.Ordinal);
    // SHA-256 of a JWT that validated -> its principal and expiry: a token is checked once, then reused until it expires
    // (a JWT cannot be revoked before its expiry anyway), so a service sending the same token pays no signature check per call.
    private readonly ConcurrentDictionary<string, (ClaimsPrincipal Principal, DateTime ValidTo)> _tokens = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private long _revision = -1;
    private Task? _follow;

    /// <summary>
    /// Whether the request's path needs no credentials: <c>/health</c>, the gRPC health service, <c>/metrics</c> unless
    /// configured otherwise, and the catalog UI's own files (<c>/ui</c>: static page code, no data; every JSON it loads
    /// needs credentials, which its sign-in form asks for).
    /// </summary>
    public bool IsOpen(PathString path)
        => path.Equals("/health", StringComparison.OrdinalIgnoreCase)
           || path.StartsWithSegments("/ui", StringComparison.Ordinal)
           || path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal)
           || (!_security.MetricsRequireAuthentication && path.Equals("/metrics", StringComparison.OrdinalIgnoreCase));

    /// <summary>The principal the request's bearer token stands for; throws <see cref="GatewayUnauthenticatedException"/> when there is none or it is not valid.</summary>
    public async ValueTask<ClaimsPrincipal> AuthenticateAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0)
            throw new GatewayUnauthenticatedException("the request carries no credentials",
                "send 'Authorization: Bearer <token>' with an API key (granary auth create-key) or a JWT; the CLI and SDK read GRANARY_API_KEY or GRANARY_TOKEN");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            throw new GatewayUnauthenticatedException("the Authorization header is not 'Bearer <token>'", "send 'Authorization: Bearer <API key or JWT>'");
        var token = header[7..].Trim();
        return token.StartsWith(ApiKeys.Prefix, StringComparison.Ordinal) ? await FromApiKeyAsync(token) : await FromJwtAsync(token);
    }

    private async ValueTask<ClaimsPrincipal> FromApiKeyAsync(string token)
    {
        EnsureFollowing();
        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (!_keys.TryGetValue(digest, out var identity))
        {
            var seenRevision = Volatile.Read(ref _revision);
            identity = await grains.GetGrain<IApiKeyGrain>(IApiKeyGrain.Key).AuthenticateAsync(token)
                ?? throw new GatewayUnauthenticatedException("the API key is not valid: unknown, malformed or revoked", "ask for a new key (granary auth create-key)");
            // Cache only what was read under a revision still current: a revocation racing this read empties the cache after it.
            if (_keys.Count < MaxCachedKeys && seenRevision == Volatile.Read(ref _revision) && seenRevision >= 0) _keys[digest] = identity;
        }
        return Principal(identity.Principal, identity.Roles, ApiKeyScheme);
    }

    private async ValueTask<ClaimsPrincipal> FromJwtAsync(string token)
    {
        var parameters = _jwt.Value
            ?? throw new GatewayUnauthenticatedException("the bearer token is not a Granary API key, and this gateway accepts no JWTs",
                "send an API key (gk_...), or configure Granary:Gateway:Security:Jwt");
        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        if (_tokens.TryGetValue(digest, out var cached))
        {
            if (DateTime.UtcNow < cached.ValidTo) return cached.Principal;
            _tokens.TryRemove(digest, out _);
        }
        var result = await _jwtHandler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
            throw new GatewayUnauthenticatedException($"the JWT is not valid: {Reason(result.Exception)}", "get a fresh token from the issuer this gateway trusts");
        var jwt = (JsonWebToken)result.SecurityToken;
        var settings = _security.Jwt;
        var name = jwt.TryGetPayloadValue<string>(settings.NameClaim, out var n) && !string.IsNullOrEmpty(n) ? n
            : throw new GatewayUnauthenticatedException($"the JWT has no '{settings.NameClaim}' claim naming the principal", "issue tokens with that claim, or set Granary:Gateway:Security:Jwt:NameClaim");
        var principal = Principal(name, RolesOf(jwt, settings.RoleClaim), JwtScheme);
        // Reused only until the token's own expiry, without the clock skew the first check allowed.
        var now = DateTime.UtcNow;
        if (_tokens.Count >= MaxCachedKeys)
            foreach (var (key, entry) in _tokens)
                if (entry.ValidTo <= now) _tokens.TryRemove(key, out _);
        if (_tokens.Count < MaxCachedKeys && jwt.ValidTo > now) _tokens[digest] = (principal, jwt.ValidTo);
        return principal;
    }

    private static IReadOnlyList<string> RolesOf(JsonWebToken jwt, string claim)
    {
        if (!jwt.TryGetPayloadValue<JsonElement>(claim, out var value)) return [];
        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries),
            JsonValueKind.Array => value.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray(),
            _ => [],
        };
    }

    // Names the kind of failure only: the token and the claims it carries stay out of the answer.
    private static string Reason(Exception? e) => e switch
    {
        SecurityTokenExpiredException => "it has expired",
        SecurityTokenNotYetValidException => "it is not valid yet",
        SecurityTokenInvalidAudienceException => "its audience is not this gateway's",
        SecurityTokenInvalidIssuerException => "its issuer is not the one this gateway trusts",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "its signature does not verify with the configured keys",
        SecurityTokenNoExpirationException => "it has no expiry",
        SecurityTokenMalformedException or ArgumentException => "it is malformed",
        _ => "it was refused",
    };

    /// <summary>A principal as the audit trail reads it: name, role claims, and how it authenticated.</summary>
    public static ClaimsPrincipal Principal(string name, IEnumerable<string> roles, string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    private static TokenValidationParameters? JwtParameters(GatewayJwtOptions jwt)
    {
        if (!jwt.Enabled) return null;
        var keys = new List<SecurityKey>();
        if (!string.IsNullOrEmpty(jwt.HmacSecret)) keys.Add(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(jwt.HmacSecret)));
        foreach (var path in jwt.PublicKeyPaths) keys.Add(PublicKey(File.ReadAllText(path), path));
        return new TokenValidationParameters
        {
            ValidIssuer = jwt.Issuer,
            ValidAudience = jwt.Audience,
            IssuerSigningKeys = keys,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = jwt.ClockSkew,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512],
        };
    }

    private static SecurityKey PublicKey(string pem, string path)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
        }
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return new ECDsaSecurityKey(ec);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            ec.Dispose();
            throw new InvalidOperationException($"Granary:Gateway:Security:Jwt:PublicKeyPaths '{path}' holds no RSA or EC public key in PEM form: {e.Message}");
        }
    }

    // One long poll on the key grain's revision: any key created or revoked empties the cache, on every gateway at once.
    private void EnsureFollowing()
    {
        if (_follow is not null) return;
        lock (_keys) _follow ??= Task.Run(FollowAsync);
    }

    private async Task FollowAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                var newer = await grains.GetGrain<IApiKeyGrain>(IApiKeyGrain.Key).WaitForRevisionAfterAsync(Volatile.Read(ref _revision), PollWait)
                    .WaitAsync(PollWait + TimeSpan.FromSeconds(2), token);
                if (newer is { } revision)
                {
                    Volatile.Write(ref _revision, revision);
                    _keys.Clear();
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Cached keys may be stale while the grain is unreachable: forget them, and check every key at the grain until it answers.
                _keys.Clear();
                Volatile.Write(ref _revision, -1);
                LogFollowFailed(logger, e);
                try { await Task.Delay(TimeSpan.FromSeconds(1), token); } catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_follow is not null) await _follow.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Following API key changes failed; every key is checked at the key grain until it answers again")]
    private static partial void LogFollowFailed(ILogger logger, Exception exception);
}

/// <summary>
/// Runs <see cref="GatewayAuthentication"/> first in every gateway host's pipeline (added by <c>AddGranaryGateway</c>),
/// so no route is reached without it; answers 401 as JSON on REST and as UNAUTHENTICATED on gRPC.
/// </summary>
internal sealed class GatewayAuthenticationStartupFilter(IOptions<GatewayOptions> options) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        if (options.Value.Security.Authorization)
        {
            var authentication = app.ApplicationServices.GetRequiredService<GatewayAuthentication>();
            app.Use(async (context, nextMiddleware) =>
            {
                if (!authentication.IsOpen(context.Request.Path))
                {
                    try
                    {
                        context.User = await authentication.AuthenticateAsync(context);
                    }
                    catch (Exception e) when (e is GatewayUnauthenticatedException or Orleans.Runtime.OrleansException or TimeoutException)
                    {
                        await RefuseAsync(context, GatewayErrors.From(e));
                        return;
                    }
                }
                await nextMiddleware(context);
            });
        }
        next(app);
    };

    private static async Task RefuseAsync(HttpContext context, GatewayError error)
    {
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true)
        {
            // A trailers-only gRPC answer: the status travels in the headers.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)error.GrpcStatus).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString(error.Hint is null ? error.Message : $"{error.Message} (hint: {error.Hint})");
            return;
        }
        if (error.HttpStatus == StatusCodes.Status401Unauthorized) context.Response.Headers.WWWAuthenticate = "Bearer";
        await error.WriteAsync(context.Response);
    }
}
