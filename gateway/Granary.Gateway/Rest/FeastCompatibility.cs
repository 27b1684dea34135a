using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Granary.Gateway.Rest;

/// <summary>
/// Whether a request on Feast's REST routes gets Feast's answers (the default) or Granary's stricter ones: set for
/// every request with <see cref="GatewayOptions.StrictFeastRoutes"/>, or for one request with the header
/// <c>Granary-Strict: true</c>.
/// </summary>
public static class FeastCompatibility
{
    /// <summary>The request header that asks for strict mode.</summary>
    public const string StrictHeader = "Granary-Strict";

    /// <summary>True when <paramref name="context"/> asks for Granary's stricter answers.</summary>
    public static bool IsStrict(HttpContext context)
        => context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.StrictFeastRoutes
           || string.Equals(context.Request.Headers[StrictHeader], "true", StringComparison.OrdinalIgnoreCase);
}
