using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Granary.Cli;
using Grpc.Core;
using Grpc.Net.Client;

namespace Granary.Gateway.Tests;

/// <summary>
/// TLS on the gateway's ports when a certificate is configured: a self-signed certificate made here, REST and gRPC over
/// it with an API key, and the cleartext protocol refused on the same port.
/// </summary>
public sealed class GatewayTlsTests(AuthzServer server) : IClassFixture<AuthzServer>
{
    [Fact]
    public async Task With_a_certificate_rest_and_grpc_answer_over_tls_only()
    {
        var folder = Directory.CreateTempSubdirectory("granary-tls-").FullName;
        try
        {
            using var certificate = SelfSigned();
            var pfx = Path.Combine(folder, "gateway.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-password"));

            await using var gateway = await EmbeddedGateway.StartAsync(server.Store, o =>
            {
                o.RestPort = 0;
                o.GrpcPort = 0;
                o.WebPort = GatewayOptions.WebPortOff;
                o.Security.Authorization = true;
                o.Tls.CertificatePath = pfx;
                o.Tls.CertificatePassword = "test-password";
            });
            Assert.StartsWith("https://", gateway.RestUrl);
            Assert.StartsWith("https://", gateway.GrpcUrl);

            // Trust exactly this certificate, nothing else.
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint };
            using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(gateway.RestUrl), Timeout = TimeSpan.FromSeconds(60) };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/get-online-features")
            {
                Content = new StringContent("""{"features": ["driver_hourly_stats:conv_rate"], "entities": {"driver_id": [1001]}}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", server.Keys["online-reader"]);
            using var read = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Contains("conv_rate", await read.Content.ReadAsStringAsync());

            using var channel = GrpcChannel.ForAddress(gateway.GrpcUrl, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
            var online = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { "driver_hourly_stats:conv_rate" } } };
            online.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1001 } } };
            var answer = await new ServingService.ServingServiceClient(channel).GetOnlineFeaturesAsync(online,
                new Metadata { { "authorization", "Bearer " + server.Keys["online-reader"] } }, DateTime.UtcNow.AddSeconds(60));
            Assert.Single(answer.Results[0].Values);

            // Cleartext HTTP on the TLS port gets no answer.
            using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var cleartext = new UriBuilder(gateway.RestUrl) { Scheme = "http" }.Uri;
            await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new Uri(cleartext, "/health")));
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false)); // server authentication
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));
    }
}
