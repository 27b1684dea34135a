namespace Granary.Registry.Tests;

/// <summary>The shared in-process CLI runner (<see cref="Granary.Testing.CliRunner"/>) at the width these tests' expected output was written for.</summary>
internal static class CliRunner
{
    public static Task<(int ExitCode, string Output)> RunAsync(params string[] args) => Granary.Testing.CliRunner.RunAsync(220, args);

    /// <summary>Runs with a console <paramref name="width"/> columns wide (80 is what a redirected process gets by default).</summary>
    public static Task<(int ExitCode, string Output)> RunAsync(int width, params string[] args) => Granary.Testing.CliRunner.RunAsync(width, args);
}
