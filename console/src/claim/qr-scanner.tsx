import { useEffect, useRef, useState } from 'preact/hooks';

interface DetectedBarcode {
  readonly rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorLike;

function barcodeDetector(): BarcodeDetectorConstructor | undefined {
  const ctor = (globalThis as { BarcodeDetector?: BarcodeDetectorConstructor }).BarcodeDetector;
  // Camera access exists only in secure contexts (https, or http on localhost).
  return ctor && 'mediaDevices' in navigator && typeof navigator.mediaDevices.getUserMedia === 'function' ? ctor : undefined;
}

/** Whether this browser can scan a QR code with the camera (BarcodeDetector + camera access). */
export function canScan(): boolean {
  return barcodeDetector() !== undefined;
}

/** The camera's picture until a QR code is read; then `onRead(text)` and the camera stops. */
export function QRScanner({ onRead, onError }: { onRead: (text: string) => void; onError: (message: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [live, setLive] = useState(false);
  useEffect(() => {
    const Detector = barcodeDetector();
    if (!Detector) return;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const stop = () => {
      stopped = true;
      if (timer) clearInterval(timer);
      stream?.getTracks().forEach((t) => t.stop());
    };
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: 'environment' } })
      .then(async (s) => {
        stream = s;
        if (stopped || !video.current) return stop();
        video.current.srcObject = s;
        await video.current.play();
        setLive(true);
        const detector = new Detector({ formats: ['qr_code'] });
        timer = setInterval(async () => {
          if (!video.current) return;
          const codes = await detector.detect(video.current).catch(() => []);
          const code = codes[0];
          if (code) {
            stop();
            onRead(code.rawValue);
          }
        }, 300);
      })
      .catch(() => onError('The camera could not be opened: paste the QR code text instead.'));
    return stop;
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the camera opens once per mount; new callbacks from a re-render must not reopen it
  }, []);
  return (
    <>
      <video ref={video} class="scanner" muted playsInline aria-label="Camera" />
      {live && <p class="muted small">Point the camera at the device label's QR code.</p>}
    </>
  );
}
