namespace Granary.Testing;

/// <summary>
/// A feature repository in a fresh temp folder: granary.yaml at its root, data files under <c>data/</c>. Deleted on
/// dispose.
/// </summary>
public sealed class TestRepository : IDisposable
{
    /// <summary>A new empty repository folder whose name starts with <paramref name="folderPrefix"/>.</summary>
    public TestRepository(string folderPrefix = "granary-test-")
    {
        Root = Directory.CreateTempSubdirectory(folderPrefix).FullName;
    }

    /// <summary>The repository root (where granary.yaml is).</summary>
    public string Root { get; }

    /// <summary>The <c>data/</c> folder, created on first use; the definitions' file sources point into it.</summary>
    public string DataDirectory => Directory.CreateDirectory(Path.Combine(Root, "data")).FullName;

    /// <summary>Writes granary.yaml: the project line, then <paramref name="rest"/> (further sections, may be empty).</summary>
    public Task WriteGranaryYamlAsync(string project, string rest = "") =>
        File.WriteAllTextAsync(Path.Combine(Root, "granary.yaml"), $"project: {project}\n{rest}");

    /// <summary>Runs DuckDB SQL that writes the sources' files; <c>{data}</c> in it is the <see cref="DataDirectory"/>.</summary>
    public void WriteData(Func<string, string> sql) => DuckDbScript.Run(sql(DataDirectory));

    /// <summary>Removes the folder and everything in it.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
