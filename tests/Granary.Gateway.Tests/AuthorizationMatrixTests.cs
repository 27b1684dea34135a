using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Claims;
using System.Text;
using Feast.Serving;
using Feast.Types;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;
using Value = Feast.Types.Value;
using Granary.Core.Security;
using Granary.Gateway.V1;
using Granary.Repository;
using Granary.Testing;
using Grpc.Core;
using Grpc.Net.Client;
using Feast.Registry;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Granary.Gateway.Tests;

/// <summary>
/// The sample repository with its 90 days of data, a sensitive view no permission names (<c>vault_scores</c>), and
/// permissions for four roles; authorization on, API keys made with the CLI (<c>granary auth create-key</c>) and JWTs
/// signed with the configured HS256 secret.
/// </summary>
public sealed class AuthzServer : EmbeddedServerFixture
{
    public AuthzServer() : base("authz", "granary-authz-")
    {
        Directory.CreateDirectory(_keyFolder);
        File.WriteAllText(Path.Combine(_keyFolder, "idp-rsa.pem"), RsaSigner.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(Path.Combine(_keyFolder, "idp-ec.pem"), EcSigner.ExportSubjectPublicKeyInfoPem());
    }

    private readonly string _keyFolder = Path.Combine(Path.GetTempPath(), "granary-authz-idp-" + Guid.NewGuid().ToString("N"));

    /// <summary>The identity provider's RSA signing key; its public half is configured (RS256).</summary>
    public RSA RsaSigner { get; } = RSA.Create(2048);

    /// <summary>The identity provider's P-256 signing key; its public half is configured (ES256).</summary>
    public ECDsa EcSigner { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public const string Issuer = "https://idp.example.test";
    public const string Audience = "granary-gateway";
    public const string Secret = "a-test-secret-of-at-least-thirty-two-bytes!";

    /// <summary>
    /// Four roles with different grants. Patterns match whole names (Feast's re.fullmatch, feast/permissions/matcher.py
    /// resource_match_config), so "driver_.*" does not cover vault_scores, and nothing here does.
    /// </summary>
    public const string PermissionsYaml = """
        permissions:
          - name: online-readers
            types: [feature_view, on_demand_feature_view, feature_service]
            name_patterns: ["driver_.*"]
            actions: [READ_ONLINE]
            policy: {roles: [online-reader]}
          - name: analysts
            types: [feature_view]
            name_patterns: ["driver_.*", "customer_.*"]
            required_tags: {team: drivers}
            actions: [READ_OFFLINE, READ_ONLINE, DESCRIBE]
            policy: {roles: [analyst]}
          - name: writers
            types: [feature_view, data_source]
            name_patterns: ["driver_.*"]
            actions: [WRITE_ONLINE, WRITE_OFFLINE]
            policy: {roles: [writer]}
          - name: catalog
            name_patterns: ["(driver|customer).*"]
            actions: [DESCRIBE]
            policy: {roles: [describer]}
          - name: auditors
            types: [permission]
            actions: [DESCRIBE]
            policy: {roles: [auditor]}
          - name: data-protection
            types: [feature_view]
            name_patterns: ["driver_.*"]
            actions: [DESCRIBE, ERASE]
            policy: {roles: [dpo]}
          - name: erasers
            types: [feature_view]
            name_patterns: ["driver_.*"]
            actions: [ERASE]
            policy: {roles: [dpo]}

        """;

    /// <summary>A view over the driver data that no permission names, tagged as sensitive.</summary>
    public const string VaultYaml = """
        feature_views:
          - name: vault_scores
            entities: [driver]
            source: driver_stats_source
            ttl: 1d
            schema:
              - name: conv_rate
                type: Float32
            tags:
              sensitive: "true"
              team: drivers

        """;

    /// <summary>The API key of each role (and of a principal with a role no permission names).</summary>
    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    public GrpcChannel Channel { get; private set; } = null!;

    protected override void WriteData(TestRepository repository)
    {
        var features = Path.Combine(RepositoryRoot, "features");
        Directory.CreateDirectory(features);
        Directory.CreateDirectory(Path.Combine(RepositoryRoot, FeatureRepositoryLoader.TransformsFolder));
        File.WriteAllText(Path.Combine(features, "entities.yaml"), SampleRepository.EntitiesYaml);
        File.WriteAllText(Path.Combine(features, "driver.yaml"), SampleRepository.DriverYaml);
        File.WriteAllText(Path.Combine(features, "customer.yaml"), SampleRepository.CustomerYaml);
        File.WriteAllText(Path.Combine(features, "services.yaml"), SampleRepository.ServicesYaml);
        File.WriteAllText(Path.Combine(features, "vault.yaml"), VaultYaml);
        File.WriteAllText(Path.Combine(features, "permissions.yaml"), PermissionsYaml);
        File.WriteAllText(Path.Combine(RepositoryRoot, FeatureRepositoryLoader.TransformsFolder, "conv_rate.cs"), SampleRepository.TransformCode);
        Cli.SampleData.Write(RepositoryRoot, DateTimeOffset.UtcNow);
    }

    protected override async Task SetUpProjectAsync()
    {
        await ApplyAsync(FeatureRepositoryLoader.Load(RepositoryRoot).ToSnapshot());
        var now = DateTimeOffset.UtcNow;
        await MaterializeAsync("driver_hourly_stats", now.AddDays(-3), now);
        foreach (var role in AuthorizationMatrixTests.Roles.Append("nobody"))
            Keys[role] = await CreateKeyAsync($"svc-{role}", role);
    }

    /// <summary>Creates a key with the CLI, as an operator does, and returns the key it printed.</summary>
    public Task<string> CreateKeyAsync(string principal, string roles) => CliRunner.CreateApiKeyAsync(RepositoryRoot, principal, roles);

    protected override void ConfigureGateway(GatewayOptions o)
    {
        o.RestPort = 0;
        o.GrpcPort = 0;
        o.WebPort = GatewayOptions.WebPortOff;
        o.Security.Authorization = true;
        o.Security.Jwt.Issuer = Issuer;
        o.Security.Jwt.Audience = Audience;
        o.Security.Jwt.HmacSecret = Secret;
        o.Security.Jwt.PublicKeyPaths = [Path.Combine(_keyFolder, "idp-rsa.pem"), Path.Combine(_keyFolder, "idp-ec.pem")];
        o.Security.Jwt.RoleClaim = "groups";
    }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Channel = GrpcChannel.ForAddress(Gateway.GrpcUrl);
    }

    public override async Task DisposeAsync()
    {
        Channel?.Dispose();
        await base.DisposeAsync();
        RsaSigner.Dispose();
        EcSigner.Dispose();
        Directory.Delete(_keyFolder, recursive: true);
    }

    /// <summary>A JWT signed with <paramref name="key"/> by <paramref name="algorithm"/> (RS256, ES256, ...).</summary>
    public static string SignedJwt(string subject, string[] groups, SecurityKey key, string algorithm)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Expires = now.AddHours(1),
            NotBefore = now.AddMinutes(-1),
            IssuedAt = now.AddMinutes(-1),
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["groups"] = groups },
            SigningCredentials = new SigningCredentials(key, algorithm),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>A JWT signed with <paramref name="secret"/> (default the configured one).</summary>
    public static string Jwt(string subject, string[] groups, DateTime expires, string audience = Audience, string secret = Secret, DateTime? notBefore = null)
    {
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            Expires = expires,
            NotBefore = notBefore ?? expires.AddHours(-2),
            IssuedAt = expires.AddHours(-2),
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["groups"] = groups },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(secret)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}

/// <summary>
/// Who may do what, end to end through the gateway: every role against every action the gateway serves, over REST and
/// gRPC, allowed exactly what its permissions grant (deny by default), and every way of failing to authenticate.
/// </summary>
public sealed class AuthorizationMatrixTests(AuthzServer server) : IClassFixture<AuthzServer>
{
    public static readonly string[] Roles = ["online-reader", "analyst", "writer", "describer"];

    private const string View = "driver_hourly_stats";

    /// <summary>What each role may do to driver_hourly_stats (or, for writes, the views the push source feeds), from <see cref="AuthzServer.PermissionsYaml"/>.</summary>
    private static bool Grants(string role, PermissionAction action) => (role, action) switch
    {
        ("online-reader", PermissionAction.ReadOnline) => true,
        ("analyst", PermissionAction.ReadOnline or PermissionAction.ReadOffline or PermissionAction.Describe) => true,
        ("writer", PermissionAction.WriteOnline or PermissionAction.WriteOffline) => true,
        ("describer", PermissionAction.Describe) => true,
        _ => false,
    };

    public static IEnumerable<object[]> RolesAndActions()
        => from role in Roles.Append("nobody")
           from action in new[] { PermissionAction.Describe, PermissionAction.ReadOnline, PermissionAction.ReadOffline, PermissionAction.WriteOnline, PermissionAction.WriteOffline }
           select new object[] { role, action };

    [Theory]
    [MemberData(nameof(RolesAndActions))]
    public async Task Each_role_is_allowed_exactly_what_its_permissions_grant_over_rest(string role, PermissionAction action)
    {
        var key = server.Keys[role];
        var expected = Grants(role, action);
        var (status, body) = action switch
        {
            PermissionAction.Describe => await GetAsync($"/api/catalog/feature-views/{View}", key),
            PermissionAction.ReadOnline => await PostAsync("/get-online-features", key, $$$"""{"features": ["{{{View}}}:conv_rate"], "entities": {"driver_id": [1001]}}"""),
            // Parity compares offline with online values: it needs READ_OFFLINE and READ_ONLINE.
            PermissionAction.ReadOffline => await PostAsync("/parity", key, $$$"""{"views": ["{{{View}}}"], "sample": 5}"""),
            PermissionAction.WriteOnline => await PostAsync("/push", key, PushBody("online")),
            PermissionAction.WriteOffline => await PostAsync("/push", key, PushBody("offline")),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };
        if (action == PermissionAction.ReadOffline) expected = Grants(role, PermissionAction.ReadOffline) && Grants(role, PermissionAction.ReadOnline);
        if (expected)
        {
            Assert.True(status == HttpStatusCode.OK, $"{role} {action}: {(int)status} {body}");
        }
        else
        {
            Assert.True(status == HttpStatusCode.Forbidden, $"{role} {action}: expected 403, got {(int)status} {body}");
            // The refusal names the action and the object.
            Assert.Contains(PermissionRules.Name(action == PermissionAction.ReadOffline && Grants(role, PermissionAction.ReadOffline) ? PermissionAction.ReadOnline : action), body);
            Assert.Contains(action is PermissionAction.WriteOnline or PermissionAction.WriteOffline ? "driver_stats_fresh" : View, body);
        }
    }

    [Theory]
    [MemberData(nameof(RolesAndActions))]
    public async Task Each_role_is_allowed_exactly_what_its_permissions_grant_over_grpc(string role, PermissionAction action)
    {
        var headers = Bearer(server.Keys[role]);
        var expected = Grants(role, action);
        var granary = new V1.Granary.GranaryClient(server.Channel);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        if (action == PermissionAction.Describe)
        {
            // Registry listings hold only what the caller may describe.
            var listing = await granary.ListRegistryAsync(new ListRegistryRequest(), headers, deadline);
            Assert.Equal(expected, listing.FeatureViews.Any(v => v.Name == View));
            Assert.DoesNotContain(listing.FeatureViews, v => v.Name == "vault_scores");
            return;
        }
        var call = action switch
        {
            PermissionAction.ReadOnline => (Func<Task>)(async () => await new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(OnlineRequest(View), headers, deadline)),
            PermissionAction.ReadOffline => () => HistoricalAsync(granary, headers, deadline),
            PermissionAction.WriteOnline => async () => await granary.PushAsync(GrpcPush("online"), headers, deadline),
            PermissionAction.WriteOffline => async () => await granary.PushAsync(GrpcPush("offline"), headers, deadline),
            _ => throw new ArgumentOutOfRangeException(nameof(action)),
        };
        if (expected)
        {
            await call();
            return;
        }
        var refused = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains(PermissionRules.Name(action), refused.Status.Detail);
    }

    [Fact]
    public async Task Materialization_needs_write_online_over_rest_and_grpc()
    {
        foreach (var role in Roles)
        {
            // REST waits for the run to finish, so the gRPC call below starts a window of its own.
            var (status, body) = await PostAsync("/materialize-incremental", server.Keys[role],
                $$$"""{"feature_views": ["{{{View}}}"], "end_ts": "{{{DateTimeOffset.UtcNow:O}}}"}""");
            Assert.True(status == (Grants(role, PermissionAction.WriteOnline) ? HttpStatusCode.OK : HttpStatusCode.Forbidden), $"{role}: {(int)status} {body}");
            var call = () => new V1.Granary.GranaryClient(server.Channel).MaterializeIncrementalAsync(
                new MaterializeIncrementalRequest { FeatureViews = { View }, End = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }, Bearer(server.Keys[role]), DateTime.UtcNow.AddSeconds(60)).ResponseAsync;
            if (Grants(role, PermissionAction.WriteOnline)) await call();
            else Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(call)).StatusCode);
        }
    }

    [Fact]
    public async Task An_object_no_permission_names_is_refused_to_everyone()
    {
        foreach (var role in Roles.Append("nobody"))
        {
            var key = server.Keys[role];
            var (status, body) = await PostAsync("/get-online-features", key, """{"features": ["vault_scores:conv_rate"], "entities": {"driver_id": [1001]}}""");
            Assert.True(status == HttpStatusCode.Forbidden, $"{role}: {(int)status} {body}");
            Assert.Contains("READ_ONLINE feature_view 'vault_scores'", body);
            Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync("/api/catalog/feature-views/vault_scores", key)).Status);
            var (_, views) = await GetAsync("/api/catalog/feature-views", key);
            Assert.DoesNotContain("vault_scores", views);
            var refused = await Assert.ThrowsAsync<RpcException>(() => new ServingService.ServingServiceClient(server.Channel)
                .GetOnlineFeaturesAsync(OnlineRequest("vault_scores"), Bearer(key), DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        }
    }

    [Fact]
    public async Task A_feature_service_read_needs_the_service_and_every_view_it_reads()
    {
        // driver_activity_v1 reads driver_hourly_stats, customer_profile and the on-demand transformed_conv_rate;
        // the online reader holds driver_.* only, so customer_profile refuses it.
        var (status, body) = await PostAsync("/get-online-features", server.Keys["online-reader"],
            """{"feature_service": "driver_activity_v1", "entities": {"driver_id": [1001], "customer_id": [201], "val_to_add": [1], "val_to_add_2": [2]}}""");
        Assert.True(status == HttpStatusCode.Forbidden, $"{(int)status} {body}");
        Assert.Contains("customer_profile", body);
    }

    [Fact]
    public async Task Requests_without_valid_credentials_are_refused_with_401_and_unauthenticated()
    {
        var online = $$$"""{"features": ["{{{View}}}:conv_rate"], "entities": {"driver_id": [1001]}}""";
        var now = DateTime.UtcNow;
        var cases = new Dictionary<string, string?>
        {
            ["no credentials"] = null,
            ["a malformed token"] = "not-a-token",
            ["a malformed API key"] = "gk_nothex_short",
            ["an unknown API key"] = "gk_0123456789ab_" + new string('x', 43),
            ["an expired JWT"] = AuthzServer.Jwt("svc-a", ["online-reader"], now.AddMinutes(-10)),
            ["a JWT for another audience"] = AuthzServer.Jwt("svc-a", ["online-reader"], now.AddHours(1), audience: "someone-else"),
            ["a JWT signed with another key"] = AuthzServer.Jwt("svc-a", ["online-reader"], now.AddHours(1), secret: "another-secret-that-is-also-long-enough!!"),
        };
        foreach (var (what, token) in cases)
        {
            var (status, body) = await PostAsync("/get-online-features", token, online);
            Assert.True(status == HttpStatusCode.Unauthorized, $"{what}: {(int)status} {body}");
            Assert.DoesNotContain(token ?? "(none)", body);
            var refused = await Assert.ThrowsAsync<RpcException>(() => new ServingService.ServingServiceClient(server.Channel)
                .GetOnlineFeaturesAsync(OnlineRequest(View), token is null ? null : Bearer(token), DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
            Assert.True(refused.StatusCode == StatusCode.Unauthenticated, $"{what}: {refused.Status}");
        }
        Assert.Contains("expired", (await PostAsync("/get-online-features", cases["an expired JWT"], online)).Body);
        Assert.Contains("audience", (await PostAsync("/get-online-features", cases["a JWT for another audience"], online)).Body);
        // /health stays open.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync("/health", null)).Status);
    }

    [Fact]
    public async Task A_valid_jwt_carries_its_roles_from_the_configured_claim()
    {
        var token = AuthzServer.Jwt("svc-jwt", ["online-reader"], DateTime.UtcNow.AddHours(1));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/get-online-features", token, $$$"""{"features": ["{{{View}}}:conv_rate"], "entities": {"driver_id": [1001]}}""")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync("/push", token, PushBody("online"))).Status);
        await new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(OnlineRequest(View), Bearer(token), DateTime.UtcNow.AddSeconds(30));
    }

    [Fact]
    public async Task Jwts_signed_with_the_configured_rsa_and_ec_public_keys_are_accepted_and_others_refused()
    {
        var online = $$$"""{"features": ["{{{View}}}:conv_rate"], "entities": {"driver_id": [1001]}}""";
        var rs256 = AuthzServer.SignedJwt("svc-rs", ["online-reader"], new RsaSecurityKey(server.RsaSigner), SecurityAlgorithms.RsaSha256);
        var es256 = AuthzServer.SignedJwt("svc-es", ["online-reader"], new ECDsaSecurityKey(server.EcSigner), SecurityAlgorithms.EcdsaSha256);
        foreach (var token in new[] { rs256, es256 })
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync("/get-online-features", token, online)).Status);
            await new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(OnlineRequest(View), Bearer(token), DateTime.UtcNow.AddSeconds(30));
        }

        // The same claims signed by keys the gateway does not know are refused, on both algorithms.
        using var otherRsa = RSA.Create(2048);
        using var otherEc = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        foreach (var forged in new[]
                 {
                     AuthzServer.SignedJwt("svc-rs", ["online-reader"], new RsaSecurityKey(otherRsa), SecurityAlgorithms.RsaSha256),
                     AuthzServer.SignedJwt("svc-es", ["online-reader"], new ECDsaSecurityKey(otherEc), SecurityAlgorithms.EcdsaSha256),
                 })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync("/get-online-features", forged, online)).Status);
            var refused = await Assert.ThrowsAsync<RpcException>(async () =>
                await new ServingService.ServingServiceClient(server.Channel).GetOnlineFeaturesAsync(OnlineRequest(View), Bearer(forged), DateTime.UtcNow.AddSeconds(30)));
            Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        }
    }

    [Fact]
    public async Task Feasts_registry_lists_the_permissions_the_caller_may_describe_as_feast_writes_them()
    {
        var auditor = await server.CreateKeyAsync("svc-auditor", "auditor");
        var registry = new RegistryServer.RegistryServerClient(server.Channel);
        var listed = await registry.ListPermissionsAsync(new ListPermissionsRequest { Project = server.Project }, Bearer(auditor), DateTime.UtcNow.AddSeconds(30));
        // "erasers" grants only Granary's ERASE: Feast's Permission.from_proto refuses a permission without actions
        // (sdk/python/feast/permissions/permission.py line 71), so it is not listed over Feast's wire.
        Assert.Equal(["online-readers", "analysts", "writers", "catalog", "auditors", "data-protection"], listed.Permissions.Select(p => p.Spec.Name));
        var analysts = await registry.GetPermissionAsync(new GetPermissionRequest { Project = server.Project, Name = "analysts" }, Bearer(auditor), DateTime.UtcNow.AddSeconds(30));
        Assert.Equal([Feast.Core.PermissionSpec.Types.Type.FeatureView], analysts.Spec.Types_);
        Assert.Equal(["driver_.*", "customer_.*"], analysts.Spec.NamePatterns);
        Assert.Equal("drivers", analysts.Spec.RequiredTags["team"]);
        Assert.Equal([Feast.Core.PermissionSpec.Types.AuthzedAction.ReadOffline, Feast.Core.PermissionSpec.Types.AuthzedAction.ReadOnline,
            Feast.Core.PermissionSpec.Types.AuthzedAction.Describe], analysts.Spec.Actions);
        Assert.Equal(["analyst"], analysts.Spec.Policy.RoleBasedPolicy.Roles);
        Assert.Equal(server.Project, analysts.Spec.Project);
        // No types means every kind: Feast reads an empty list as ALL_RESOURCE_TYPES (permission.py line 66).
        Assert.Empty(listed.Permissions.Single(p => p.Spec.Name == "catalog").Spec.Types_);
        var dataProtection = listed.Permissions.Single(p => p.Spec.Name == "data-protection");
        Assert.Equal([Feast.Core.PermissionSpec.Types.AuthzedAction.Describe], dataProtection.Spec.Actions);
        Assert.Equal("ERASE", dataProtection.Spec.Tags["granary_actions"]);

        // A caller who may describe views but no permission sees none, and a named one is as if absent.
        var describer = Bearer(server.Keys["describer"]);
        Assert.Empty((await registry.ListPermissionsAsync(new ListPermissionsRequest { Project = server.Project }, describer, DateTime.UtcNow.AddSeconds(30))).Permissions);
        var hidden = await Assert.ThrowsAsync<RpcException>(async () =>
            await registry.GetPermissionAsync(new GetPermissionRequest { Project = server.Project, Name = "analysts" }, describer, DateTime.UtcNow.AddSeconds(30)));
        Assert.Equal(StatusCode.NotFound, hidden.StatusCode);
        // What the auditor may not describe (feature views) stays hidden from it.
        var proto = await registry.ProtoAsync(new Google.Protobuf.WellKnownTypes.Empty(), Bearer(auditor), DateTime.UtcNow.AddSeconds(30));
        Assert.Empty(proto.FeatureViews);
        Assert.Equal(6, proto.Permissions.Count);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_and_list_keys_never_shows_a_key()
    {
        var key = await server.CreateKeyAsync("svc-revoked", "online-reader");
        var online = $$$"""{"features": ["{{{View}}}:conv_rate"], "entities": {"driver_id": [1001]}}""";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/get-online-features", key, online)).Status); // now cached by the gateway
        Assert.True(ApiKeys.TryParse(key, out var id, out var secret));

        var (listCode, list) = await CliRunner.RunAsync("--repo", server.RepositoryRoot, "auth", "list-keys");
        Assert.True(listCode == 0, list);
        Assert.Contains(id, list);
        Assert.Contains("svc-revoked", list);
        Assert.DoesNotContain(secret, list);

        var (code, output) = await CliRunner.RunAsync("--repo", server.RepositoryRoot, "auth", "revoke-key", id);
        Assert.True(code == 0, output);
        // The CLI wrote the database; the key grain sees the new revision and every gateway drops its cached keys.
        await Eventually.WaitUntil(async () => (await PostAsync("/get-online-features", key, online)).Status == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(30), "the revoked key to be refused");
        var refused = await Assert.ThrowsAsync<RpcException>(() => new ServingService.ServingServiceClient(server.Channel)
            .GetOnlineFeaturesAsync(OnlineRequest(View), Bearer(key), DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(1, (await CliRunner.RunAsync("--repo", server.RepositoryRoot, "auth", "revoke-key", id)).ExitCode);
    }

    [Fact]
    public async Task Each_decision_is_recorded_for_the_audit_trail_with_the_principal()
    {
        // The record the audit trail reads (RequestAccess), as the gateway leaves it at the end of a request.
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext
        {
            User = Granary.Gateway.Security.GatewayAuthentication.Principal("svc-x", ["analyst"], Granary.Gateway.Security.GatewayAuthentication.ApiKeyScheme),
        };
        var authorization = server.Gateway.Services.GetService(typeof(Granary.Gateway.Security.GatewayAuthorization)) as Granary.Gateway.Security.GatewayAuthorization;
        var snapshot = await server.Store.Grains.GetGrain<Grains.Registry.IRegistryGrain>(server.Project).GetSnapshotAsync();
        Assert.True(authorization!.Can(context, snapshot, PermissionAction.ReadOffline, PermissionRules.FeatureView, View));
        Assert.False(authorization.Can(context, snapshot, PermissionAction.ReadOnline, PermissionRules.FeatureView, "vault_scores"));
        Assert.Equal([
            new Granary.Gateway.Security.AccessDecision(PermissionAction.ReadOffline, PermissionRules.FeatureView, View, true, false),
            new Granary.Gateway.Security.AccessDecision(PermissionAction.ReadOnline, PermissionRules.FeatureView, "vault_scores", false, true)],
            Granary.Gateway.Security.RequestAccess.Of(context).Decisions);
        Assert.Equal("svc-x", context.User.Identity!.Name);
        Assert.Equal("apikey", context.User.Identity.AuthenticationType);
        Assert.True(context.User.IsInRole("analyst"));
    }

    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    private static GetOnlineFeaturesRequest OnlineRequest(string view)
    {
        var request = new GetOnlineFeaturesRequest { Features = new FeatureList { Val = { $"{view}:conv_rate" } } };
        request.Entities["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1001 } } };
        return request;
    }

    private static async Task HistoricalAsync(V1.Granary.GranaryClient granary, Metadata headers, DateTime deadline)
    {
        var rows = new EntityRows();
        rows.Columns["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1001 } } };
        rows.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = DateTimeOffset.UtcNow.AddHours(-3).ToUnixTimeSeconds() } } };
        var request = new GetHistoricalFeaturesRequest { EntityRows = rows, Features = { $"{View}:conv_rate" }, StreamRows = true };
        using var call = granary.GetHistoricalFeatures(request, headers, deadline);
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
        }
    }

    private static string PushBody(string to)
    {
        var now = DateTimeOffset.UtcNow.ToString("O");
        return $$$"""{"push_source_name": "driver_stats_push", "to": "{{{to}}}", "df": {"driver_id": [1001], "event_timestamp": ["{{{now}}}"], "created": ["{{{now}}}"], "conv_rate": [0.5], "acc_rate": [0.25]}}""";
    }

    private static V1.PushRequest GrpcPush(string to)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var request = new V1.PushRequest { PushSourceName = "driver_stats_push", To = to };
        request.Columns["driver_id"] = new RepeatedValue { Val = { new Value { Int64Val = 1002 } } };
        request.Columns["event_timestamp"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = now } } };
        request.Columns["created"] = new RepeatedValue { Val = { new Value { UnixTimestampVal = now } } };
        request.Columns["conv_rate"] = new RepeatedValue { Val = { new Value { FloatVal = 0.5f } } };
        request.Columns["acc_rate"] = new RepeatedValue { Val = { new Value { FloatVal = 0.25f } } };
        return request;
    }

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, string? token, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        return await SendAsync(request, token);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync(request, token);
    }

    private async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpRequestMessage request, string? token)
    {
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await server.Http.SendAsync(request, timeout.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
    }
}
