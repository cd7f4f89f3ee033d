/*
 * A stand-in bcryptprimitives.dll that lets Go 1.24+ Windows programs run under
 * Debian's wine 8. Test harness only (scripts/windows-smoke.sh): never shipped in dist/.
 *
 * 1. Go's runtime asks bcryptprimitives.dll for ProcessPrng at start and stops without
 *    it; wine 8 has no such DLL. ProcessPrng here fills the buffer from advapi32's
 *    RtlGenRandom (SystemFunction036), which wine provides.
 * 2. Go sets SIO_UDP_NETRESET on every UDP socket (go.dev/issue/68614) and gives up on the
 *    socket when that fails; wine 8's WSAIoctl does not know the code (WSAEOPNOTSUPP), so
 *    no UDP, and so no DNS through `--dns`, would work. On the first ProcessPrng call
 *    (Go's runtime makes it before any user code) this DLL points ws2_32's export of
 *    WSAIoctl at a wrapper that calls wine's WSAIoctl and, for that one code only, turns
 *    "not supported" into success. The code asks Windows not to report ICMP "network
 *    unreachable" on the socket, a report wine never makes anyway. Every other call
 *    goes to wine's WSAIoctl unchanged.
 */
#include <winsock2.h>
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

#define SIO_UDP_NETRESET_CODE (IOC_IN | IOC_VENDOR | 15)

typedef int (WINAPI *wsaioctl_fn)(SOCKET, DWORD, LPVOID, DWORD, LPVOID, DWORD, LPDWORD,
	LPWSAOVERLAPPED, LPWSAOVERLAPPED_COMPLETION_ROUTINE);

static wsaioctl_fn wine_WSAIoctl;
static volatile LONG patched;

static int WINAPI netreset_WSAIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_size, LPVOID out,
	DWORD out_size, LPDWORD ret_size, LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE done)
{
	int r = wine_WSAIoctl(s, code, in, in_size, out, out_size, ret_size, ov, done);
	if (r != 0 && code == SIO_UDP_NETRESET_CODE && GetLastError() == WSAEOPNOTSUPP) {
		if (ret_size)
			*ret_size = 0;
		SetLastError(0);
		return 0;
	}
	return r;
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

/* patch_export makes GetProcAddress(module, name) return target, through a jump stub
 * placed within 2 GB above the module (export entries are 32-bit offsets). */
static void patch_export(HMODULE module, const char *name, void *target)
{
	BYTE *base = (BYTE *)module;
	IMAGE_NT_HEADERS64 *nt = (IMAGE_NT_HEADERS64 *)(base + ((IMAGE_DOS_HEADER *)base)->e_lfanew);
	IMAGE_DATA_DIRECTORY dir = nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_EXPORT];
	IMAGE_EXPORT_DIRECTORY *exp = (IMAGE_EXPORT_DIRECTORY *)(base + dir.VirtualAddress);
	DWORD *names = (DWORD *)(base + exp->AddressOfNames);
	WORD *ordinals = (WORD *)(base + exp->AddressOfNameOrdinals);
	DWORD *functions = (DWORD *)(base + exp->AddressOfFunctions);
	DWORD *slot = NULL;
	for (DWORD i = 0; i < exp->NumberOfNames && !slot; i++)
		if (same((const char *)(base + names[i]), name))
			slot = &functions[ordinals[i]];
	if (!slot)
		return;
	BYTE *stub = NULL;
	SIZE_T start = ((SIZE_T)nt->OptionalHeader.SizeOfImage + 0xFFFF) & ~(SIZE_T)0xFFFF;
	for (SIZE_T off = start; off < 0x7FFF0000 && !stub; off += 0x10000)
		stub = VirtualAlloc(base + off, 4096, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE);
	if (!stub)
		return;
	stub[0] = 0xFF; /* jmp qword ptr [rip+0] */
	stub[1] = 0x25;
	*(DWORD *)(stub + 2) = 0;
	*(void **)(stub + 6) = target;
	DWORD old;
	if (VirtualProtect(slot, sizeof *slot, PAGE_READWRITE, &old)) {
		*slot = (DWORD)(stub - base);
		VirtualProtect(slot, sizeof *slot, old, &old);
	}
}

static void patch_ws2_32(void)
{
	HMODULE ws2 = LoadLibraryA("ws2_32.dll");
	if (!ws2)
		return;
	wine_WSAIoctl = (wsaioctl_fn)(void *)GetProcAddress(ws2, "WSAIoctl");
	if (wine_WSAIoctl)
		patch_export(ws2, "WSAIoctl", (void *)netreset_WSAIoctl);
}

/* ProcessPrng has the signature of Windows 10's: it never fails, so Go does not check. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
	if (InterlockedCompareExchange(&patched, 1, 0) == 0)
		patch_ws2_32(); /* here, not in DllMain: LoadLibrary under the loader lock is unsafe */
	while (size > 0) {
		ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		size -= chunk;
	}
	return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
	(void)instance;
	(void)reason;
	(void)reserved;
	return TRUE;
}
