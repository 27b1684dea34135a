using System.Text;

namespace Granary.Gateway.Tests;

/// <summary>Requests that ask for Granary's own error object on Feast's routes (it names the exception class).</summary>
internal static class StrictRequest
{
    /// <summary>A JSON POST to <paramref name="path"/> with the <c>Granary-Strict</c> header (FeastCompatibility.StrictHeader).</summary>
    public static HttpRequestMessage Post(string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("Granary-Strict", "true");
        return request;
    }
}
