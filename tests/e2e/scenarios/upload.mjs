// Files through the real client: uploadFile, then an image message by URL that bob receives
// and whose URL serves the same bytes; then the SDK's own Create*MessageByFile flows (image,
// sound, video, file), each received by bob and fetched back; and a refused upload.
//
// config keys: fileSize (bytes of the main upload; the server's part size is set small by the
// test so that this makes several parts).
import { createHash } from 'node:crypto';
import { check, runScenario } from '../lib.mjs';

// The SDK reads each part with FileReader, which browsers have and Node.js does not: this is
// the smallest stand-in, over Blob.arrayBuffer().
if (typeof globalThis.FileReader === 'undefined') {
  globalThis.FileReader = class FileReader {
    readAsArrayBuffer(blob) {
      blob.arrayBuffer().then(
        buffer => {
          this.result = buffer;
          this.onload?.({ target: this });
        },
        error => this.onerror?.(error)
      );
    }
  };
}

/** `size` bytes that differ from part to part (so a misplaced part changes the hash). */
function bytesOf(size, seed) {
  const bytes = new Uint8Array(size);
  let state = seed;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

const sha256 = bytes => createHash('sha256').update(bytes).digest('hex');

/** GET a URL; its status, content type and the SHA-256 of its body. */
async function fetched(url) {
  const response = await fetch(url);
  const body = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    sha256: sha256(body),
    size: body.length,
  };
}

runScenario(async ctx => {
  const alice = await ctx.loggedInClient('alice');
  const bob = await ctx.loggedInClient('bob');
  const send = async message => {
    await alice.call('sendMessage', { recvID: bob.userID, groupID: '', message });
    return bob.waitForMessage(message.clientMsgID);
  };

  // uploadFile, then an image message by URL
  const photoBytes = bytesOf(ctx.config.fileSize, 7);
  const photo = new File([photoBytes], 'holiday photo.png', { type: 'image/png' });
  const upload = await alice.request('uploadFile', { file: photo });
  check(upload.errCode === 0, 'uploadFile succeeded', upload);
  const url = upload.data.url;
  const picture = { uuid: 'photo-1', type: 'png', size: photoBytes.length, width: 640,
                    height: 480, url };
  const image = await alice.call('createImageMessageByURL', {
    sourcePath: '',
    sourcePicture: picture,
    bigPicture: picture,
    snapshotPicture: { ...picture, width: 64, height: 48,
                       url: `${url}?type=image&width=64&height=48` },
  });
  const received = await send(image);

  // the SDK's own upload-then-create functions
  const small = bytesOf(1000, 11);
  const byFile = {};
  byFile.image = await send(await alice.call('createImageMessageByFile', {
    sourcePath: '',
    sourcePicture: { uuid: 'i', type: 'png', size: small.length, width: 10, height: 10, url: '' },
    bigPicture: { uuid: 'i', type: 'png', size: small.length, width: 10, height: 10, url: '' },
    snapshotPicture: { uuid: 'i', type: 'png', size: small.length, width: 10, height: 10,
                       url: '' },
    file: new File([small], 'small.png', { type: 'image/png' }),
  }));
  const sound = bytesOf(3000, 13);
  byFile.sound = await send(await alice.call('createSoundMessageByFile', {
    uuid: 's', soundPath: '', sourceUrl: '', dataSize: sound.length, duration: 3,
    file: new File([sound], 'voice.mp3', { type: 'audio/mpeg' }),
  }));
  const video = bytesOf(5000, 17);
  const still = bytesOf(700, 19);
  byFile.video = await send(await alice.call('createVideoMessageByFile', {
    videoPath: '', videoUUID: 'v', videoUrl: '', videoType: 'mp4', videoSize: video.length,
    duration: 2, snapshotPath: '', snapshotUUID: 'vs', snapshotSize: still.length,
    snapshotUrl: '', snapshotWidth: 32, snapshotHeight: 18,
    videoFile: new File([video], 'clip.mp4', { type: 'video/mp4' }),
    snapshotFile: new File([still], 'clip.jpg', { type: 'image/jpeg' }),
  }));
  const document = bytesOf(4000, 23);
  byFile.file = await send(await alice.call('createFileMessageByFile', {
    filePath: '', fileName: 'report.pdf', uuid: 'f', sourceUrl: '', fileSize: document.length,
    file: new File([document], 'report.pdf', { type: 'application/pdf' }),
  }));

  // a type the server does not take: uploadFile answers an error instead of a URL
  const refused = await alice.request('uploadFile', {
    file: new File(['<script>alert(1)</script>'], 'page.html', { type: 'text/html' }),
  });

  return {
    url,
    apiUrl: ctx.apiUrl,
    uploaded: { sha256: sha256(photoBytes), size: photoBytes.length },
    received: {
      contentType: received.contentType,
      sourceUrl: received.pictureElem?.sourcePicture?.url,
      snapshotUrl: received.pictureElem?.snapshotPicture?.url,
    },
    served: await fetched(received.pictureElem.sourcePicture.url),
    servedSnapshot: await fetched(received.pictureElem.snapshotPicture.url),
    byFile: {
      image: { contentType: byFile.image.contentType,
               served: await fetched(byFile.image.pictureElem.sourcePicture.url),
               expected: sha256(small) },
      sound: { contentType: byFile.sound.contentType,
               served: await fetched(byFile.sound.soundElem.sourceUrl),
               expected: sha256(sound) },
      video: { contentType: byFile.video.contentType,
               served: await fetched(byFile.video.videoElem.videoUrl),
               expected: sha256(video),
               snapshot: await fetched(byFile.video.videoElem.snapshotUrl),
               expectedSnapshot: sha256(still) },
      file: { contentType: byFile.file.contentType, fileName: byFile.file.fileElem.fileName,
              served: await fetched(byFile.file.fileElem.sourceUrl),
              expected: sha256(document) },
    },
    refused: { errCode: refused.errCode, errMsg: refused.errMsg, url: refused.data?.url },
  };
});
