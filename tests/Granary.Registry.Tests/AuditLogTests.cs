using System.Data.Common;
using Granary.Audit;
using Granary.Registry.Sql;
using Granary.Security;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Granary.Registry.Tests;

/// <summary>
/// <c>granary audit verify</c> over a log written through the same chain the audit grain uses: intact, then one record
/// changed directly in the database, one deleted, two swapped; each time the first broken record is named. On the
/// embedded SQLite file (<c>data/audit.db</c>) and on PostgreSQL (a fresh database, the registry's, as a cluster has it).
/// </summary>
public abstract class AuditLogVerifyTests : IDisposable
{
    private protected readonly TestRepository Repo = new("auditproj");

    /// <summary>The store of <see cref="Repo"/> as granary.yaml names it.</summary>
    private protected abstract SqlAuditStore Store { get; }

    /// <summary>Runs SQL on the store's database.</summary>
    private protected abstract Task<int> ExecuteAsync(string sql);

    private async Task WriteLogAsync(int records)
    {
        await Store.InitializeAsync();
        var previous = AuditChain.GenesisHash;
        var chained = new List<AuditRecord>();
        for (var i = 1; i <= records; i++)
        {
            var record = AuditChain.Link(i, new AuditEntry
            {
                Time = new DateTimeOffset(2026, 12, 7, 12, 0, i, TimeSpan.Zero), Principal = i % 2 == 0 ? "alice" : "bob", AuthMethod = "apikey",
                Action = "WRITE_ONLINE", ObjectType = "push_source", ObjectName = i % 3 == 0 ? "driver_push" : "city_push", Route = "POST /push",
                Address = "10.0.0." + i, Result = "allowed", Status = "200",
            }, previous);
            chained.Add(record);
            previous = record.Hash;
        }
        await Store.AppendAsync(chained);
    }

    private Task<(int ExitCode, string Output)> VerifyAsync() => CliRunner.RunAsync("--repo", Repo.Root, "audit", "verify");

    [Fact]
    public async Task Verify_passes_an_intact_log_then_names_an_edited_record()
    {
        await WriteLogAsync(6);
        var (code, output) = await VerifyAsync();
        Assert.True(code == 0, output);
        Assert.Contains("Audit log intact: 6 record(s)", output);

        Assert.Equal(1, await ExecuteAsync("UPDATE granary_audit SET principal = 'mallory' WHERE sequence = 4"));
        (code, output) = await VerifyAsync();
        Assert.Equal(1, code);
        Assert.Contains("broken at record 4", output);
        Assert.Contains("do not match its hash", output);
        Assert.Contains("3 record(s) before it verified", output);
    }

    [Fact]
    public async Task Verify_names_the_record_after_a_deleted_one()
    {
        await WriteLogAsync(6);
        Assert.Equal(1, await ExecuteAsync("DELETE FROM granary_audit WHERE sequence = 3"));
        var (code, output) = await VerifyAsync();
        Assert.Equal(1, code);
        Assert.Contains("broken at record 4", output);
        Assert.Contains("record(s) 3 were deleted", output);
    }

    [Fact]
    public async Task Verify_names_the_first_of_two_swapped_records()
    {
        await WriteLogAsync(6);
        // Swap records 2 and 5 in place: each keeps its number, takes the other's fields and hashes.
        var columns = new[] { "recorded_at", "principal", "auth_method", "action", "object_type", "object_name", "route", "address", "result", "status", "previous_hash", "hash" };
        await ExecuteAsync("CREATE TABLE swapped AS SELECT * FROM granary_audit");
        var fromCopy = string.Join(", ", columns.Select(c => $"{c} = (SELECT o.{c} FROM swapped o WHERE o.sequence = CASE granary_audit.sequence WHEN 2 THEN 5 ELSE 2 END)"));
        Assert.Equal(2, await ExecuteAsync($"UPDATE granary_audit SET {fromCopy} WHERE sequence IN (2, 5)"));
        var (code, output) = await VerifyAsync();
        Assert.Equal(1, code);
        Assert.Contains("broken at record 2", output);
        Assert.Contains("1 record(s) before it verified", output);
    }

    [Fact]
    public async Task Tail_filters_by_principal_and_object_and_counts()
    {
        await WriteLogAsync(6);
        var (code, output) = await CliRunner.RunAsync("--repo", Repo.Root, "audit", "tail", "--principal", "alice", "--object", "driver_push", "-n", "5");
        Assert.True(code == 0, output);
        Assert.Contains("10.0.0.6", output); // sequence 6: alice, driver_push
        Assert.DoesNotContain("10.0.0.3", output); // bob
        Assert.DoesNotContain("10.0.0.2", output); // city_push
        (code, output) = await CliRunner.RunAsync("--repo", Repo.Root, "audit", "tail", "-n", "2");
        Assert.True(code == 0, output);
        Assert.Contains("10.0.0.5", output);
        Assert.Contains("10.0.0.6", output);
        Assert.DoesNotContain("10.0.0.4", output);
    }

    public virtual void Dispose() => Repo.Dispose();
}

/// <summary>The embedded log: <c>data/audit.db</c> of the repository.</summary>
public sealed class SqliteAuditLogVerifyTests : AuditLogVerifyTests
{
    private readonly SqliteAuditStore _store;

    public SqliteAuditLogVerifyTests() => _store = new SqliteAuditStore(Path.Combine(Repo.Root, "data", "audit.db"));

    private protected override SqlAuditStore Store => _store;

    private protected override async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_store.DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var changed = await command.ExecuteNonQueryAsync();
        return changed;
    }
}

/// <summary>The cluster's log: the registry's PostgreSQL database (a fresh one per class on GRANARY_TEST_POSTGRES).</summary>
public sealed class PostgresAuditLogVerifyTests : AuditLogVerifyTests, IClassFixture<PostgresDatabase>
{
    private readonly PostgresAuditStore _store;
    private readonly string _connectionString;

    public PostgresAuditLogVerifyTests(PostgresDatabase database)
    {
        // Each test its own schema in the class's database, so the tests' logs stay apart.
        var schema = "audit_" + Guid.NewGuid().ToString("N")[..10];
        using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            connection.Open();
            using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            create.ExecuteNonQuery();
        }
        _connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString) { SearchPath = schema }.ConnectionString;
        _store = new PostgresAuditStore(_connectionString);
        Repo.Write("granary.yaml", $"project: auditproj\nregistry:\n  type: postgres\n  connection_string: \"{_connectionString}\"\n");
    }

    private protected override SqlAuditStore Store => _store;

    private protected override async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using DbCommand command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    public override void Dispose()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose();
    }
}

/// <summary>Paths resolved as the file system follows them: <c>..</c> after a link leaves the link's target, and links out are caught.</summary>
public sealed class RequestPathsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("granary-paths-").FullName;

    [Fact]
    public void A_path_inside_resolves_and_one_outside_is_refused_naming_both()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var paths = new RequestPaths(data, "Granary:RequestFilesFolder");
        Assert.Equal(Path.Combine(data, "x", "out.parquet"), paths.Confine("x/./out.parquet", "output_path"));
        var e = Assert.Throws<RequestPathException>(() => paths.Confine(Path.Combine(data, "..", "out.parquet"), "output_path"));
        Assert.Contains($"resolves to '{Path.Combine(_root, "out.parquet")}'", e.Message);
        Assert.Contains($"'{data}'", e.Message);
        Assert.Contains("Granary:RequestFilesFolder", e.Hint);
        Assert.Throws<RequestPathException>(() => paths.Confine(data, "output_path")); // the folder itself is no file
    }

    [Fact]
    public void Dot_dot_after_a_link_is_taken_from_the_links_target()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var deep = Directory.CreateDirectory(Path.Combine(_root, "elsewhere", "deep")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(data, "link"), deep);
        var paths = new RequestPaths(data, "setting");
        // Lexically data/link/../x is data/x; the kernel goes to elsewhere/x.
        var e = Assert.Throws<RequestPathException>(() => paths.Confine(Path.Combine(data, "link", "..", "x.csv"), "baseline"));
        Assert.Contains($"resolves to '{Path.Combine(_root, "elsewhere", "x.csv")}'", e.Message);
        // A link inside pointing inside is fine.
        Directory.CreateDirectory(Path.Combine(data, "real"));
        Directory.CreateSymbolicLink(Path.Combine(data, "alias"), "real");
        Assert.Equal(Path.Combine(data, "real", "f.csv"), paths.Confine(Path.Combine(data, "alias", "f.csv"), "baseline"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
