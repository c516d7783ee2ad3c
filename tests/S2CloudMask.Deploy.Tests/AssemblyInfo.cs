// The deploy checks exercise a Linux container's setup (file modes, setpriv, SIGTERM, apt packages).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
