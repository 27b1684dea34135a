using Granary.Repository;

namespace Granary.Registry.Tests;

/// <summary>A sample repository in a fresh temporary folder, deleted on dispose.</summary>
internal sealed class TestRepository : IDisposable
{
    public TestRepository(string project = "demo")
    {
        Root = Path.Combine(Path.GetTempPath(), "granary-registry-tests", Guid.NewGuid().ToString("N"));
        SampleRepository.WriteDefinitions(Root, project);
    }

    public string Root { get; }

    public string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    public void Write(string relative, string text)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>Replaces the first occurrence of <paramref name="from"/> in a file; fails the test when it is absent.</summary>
    public void Replace(string relative, string from, string to)
    {
        var text = Read(relative);
        var i = text.IndexOf(from, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{from}' not found in {relative}");
        Write(relative, text[..i] + to + text[(i + from.Length)..]);
    }

    /// <summary>The 1-based line of the first occurrence of <paramref name="text"/> in a file.</summary>
    public int LineOf(string relative, string text)
    {
        var content = Read(relative);
        var i = content.IndexOf(text, StringComparison.Ordinal);
        Assert.True(i >= 0, $"'{text}' not found in {relative}");
        return content[..i].Count(c => c == '\n') + 1;
    }

    public FeatureRepository Load() => FeatureRepositoryLoader.Load(Root);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
